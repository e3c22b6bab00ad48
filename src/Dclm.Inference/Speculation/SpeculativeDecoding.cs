namespace Dclm.Inference.Speculation;

/// <summary>Speculative decoding settings: where drafts come from and how many tokens one step may guess.</summary>
public sealed record SpeculativeDecoding
{
    /// <summary>Most draft tokens per target step.</summary>
    public const int MaxDraftTokensLimit = 64;

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
