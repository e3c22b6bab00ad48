namespace Dclm.Inference.Speculation;

/// <summary>How speculation went for one generation: drafted and accepted tokens and target steps.</summary>
public sealed record SpeculationStatistics
{
    /// <summary>Draft tokens proposed to the target.</summary>
    public long Drafted { get; init; }
    /// <summary>Draft tokens the target kept.</summary>
    public long Accepted { get; init; }
    /// <summary>Target forward steps after the prompt (each emits one token plus the accepted drafts).</summary>
    public long Steps { get; init; }
    /// <summary>Tokens emitted.</summary>
    public long Emitted { get; init; }

    /// <summary>Accepted ÷ drafted (0 when nothing was drafted).</summary>
    public double AcceptanceRate => Drafted == 0 ? 0 : (double)Accepted / Drafted;

    /// <summary>Emitted tokens per target step (1 without speculation).</summary>
    public double TokensPerStep => Steps == 0 ? 0 : (double)Emitted / Steps;

    /// <inheritdoc/>
    public override string ToString() =>
        $"drafted {Drafted}, accepted {Accepted} ({AcceptanceRate:P1}), {Emitted} tokens in {Steps} target steps ({TokensPerStep:F2} per step)";
}
