namespace Dclm.Inference.Speculation;

/// <summary>Speculative decoding settings: where drafts come from and how many tokens one step may guess.</summary>
public sealed record SpeculativeDecoding
{
    /// <summary>Most draft tokens per target step.</summary>
    public const int MaxDraftTokensLimit = 64;

    /// <summary>
    /// Most draft tokens for which every weight type keeps the output exact: a step of up to 15 tokens runs the
    /// few-token Q8_0/Q4_0 kernels, which give each token the bits it gets alone (docs/speculative-decoding.md).
    /// </summary>
    public const int MostExactDraftTokens = 14;

    /// <param name="source">Where drafts come from.</param>
    /// <param name="maxDraftTokens">Most draft tokens per target step, in [1, 64].</param>
    public SpeculativeDecoding(IDraftSource source, int maxDraftTokens)
    {
        Source = source ?? throw new ArgumentNullException(nameof(source));
        if (maxDraftTokens is < 1 or > MaxDraftTokensLimit)
            throw new ArgumentOutOfRangeException(nameof(maxDraftTokens), $"the draft length is {maxDraftTokens}; it must be in [1, {MaxDraftTokensLimit}]");
        MaxDraftTokens = maxDraftTokens;
    }

    /// <summary>Where drafts come from.</summary>
    public IDraftSource Source { get; }
    /// <summary>Most draft tokens per target step.</summary>
    public int MaxDraftTokens { get; }
}
