namespace Dclm.Inference;

/// <summary>
/// How one generated output looked to its model: the mean log-probability of the tokens drawn and the mean entropy of
/// the distributions they were drawn from (both under the model's own softmax, before temperature, penalties or
/// constraints), the share of repeated n-grams, and whether it came out empty or cut by the token budget. A model
/// degenerating into loops shows as repetition near 1 with entropy near 0.
/// </summary>
/// <param name="MeanLogprob">Mean over measured tokens of log p(token) (nats, ≤ 0); NaN when none was measured.</param>
/// <param name="MeanEntropy">Mean over measured tokens of H = −Σ p·log p (nats); NaN when none was measured.</param>
/// <param name="RepetitionRate">rep-n of the output's tokens: 1 − distinct n-grams / n-grams (Welleck et al., 2019), n = <see cref="RepetitionOrder"/>; 0 with fewer than n tokens.</param>
/// <param name="MeasuredTokens">Tokens whose distribution was measured (every drawn token, the ending one included).</param>
/// <param name="Empty">No visible character besides white space came out.</param>
/// <param name="Truncated">The token budget (or the context) ended it.</param>
public sealed record OutputStability(double MeanLogprob, double MeanEntropy, double RepetitionRate, int MeasuredTokens, bool Empty, bool Truncated)
{
    /// <summary>The n of the repetition rate: repeated 4-grams of token ids.</summary>
    public const int RepetitionOrder = 4;

    /// <summary>1 − distinct n-grams / n-grams of <paramref name="tokens"/>; 0 when it has fewer than <paramref name="n"/> tokens.</summary>
    public static double Repetition(ReadOnlySpan<int> tokens, int n = RepetitionOrder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        int grams = tokens.Length - n + 1;
        if (grams <= 0) return 0;
        var seen = new HashSet<NGram>(grams);
        for (int i = 0; i < grams; i++) seen.Add(new NGram(tokens.Slice(i, n)));
        return 1 - seen.Count / (double)grams;
    }

    /// <summary>An n-gram of token ids, compared by value (n ≤ 8 packs into two longs exactly; longer ones fall back to a string key).</summary>
    private readonly record struct NGram(long A, long B, string? Rest)
    {
        public NGram(ReadOnlySpan<int> ids) : this(Pack(ids, 0), Pack(ids, 2), ids.Length > 4 ? string.Join(',', ids[4..].ToArray()) : null) { }
        private static long Pack(ReadOnlySpan<int> ids, int from) =>
            (from < ids.Length ? (uint)ids[from] : 0xFFFFFFFFL) | (long)(from + 1 < ids.Length ? (uint)ids[from + 1] : 0xFFFFFFFFu) << 32;
    }
}
