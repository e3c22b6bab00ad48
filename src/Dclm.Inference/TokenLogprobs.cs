using Dclm.Tensors.Ops;

namespace Dclm.Inference;

/// <summary>A token and its log-probability under the model.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>
/// The log-probability of a generated token and the most likely alternatives at its position, from
/// the model's raw logits (before penalties and temperature, as vLLM reports them by default).
/// </summary>
public sealed record TokenLogprobs(float Logprob, IReadOnlyList<TokenLogprob> Top)
{
    /// <summary>Most alternatives a request may ask for (OpenAI's top_logprobs limit).</summary>
    public const int MaxTop = 20;

    /// <summary>
    /// log softmax(logits)[chosen] and the <paramref name="top"/> most likely tokens, best first (ties by
    /// lower id). <paramref name="scratch"/> holds at least logits.Length floats.
    /// </summary>
    public static TokenLogprobs Compute(ReadOnlySpan<float> logits, int chosen, int top, Span<float> scratch)
    {
        if ((uint)chosen >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(chosen), $"token {chosen} is outside the {logits.Length} logits");
        if (top is < 0 or > MaxTop) throw new ArgumentOutOfRangeException(nameof(top), $"top {top} must be in [0, {MaxTop}]");
        // log Σ e^(x − max) + max, the sum in double: 50k terms lose little, and the log is taken once.
        float logNormalizer = (float)VectorMath.LogSumExp(logits, VectorMath.Max(logits), scratch);
        var best = new List<TokenLogprob>(top + 1);
        if (top > 0)
        {
            for (int id = 0; id < logits.Length; id++)
            {
                float value = logits[id];
                if (best.Count == top && !(value > best[^1].Logprob)) continue;
                int at = best.Count;
                while (at > 0 && value > best[at - 1].Logprob) at--;
                best.Insert(at, new TokenLogprob(id, value));
                if (best.Count > top) best.RemoveAt(top);
            }
            for (int i = 0; i < best.Count; i++) best[i] = best[i] with { Logprob = best[i].Logprob - logNormalizer };
        }
        return new TokenLogprobs(logits[chosen] - logNormalizer, best);
    }
}
