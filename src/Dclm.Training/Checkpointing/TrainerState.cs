namespace Dclm.Training.Checkpointing;

/// <summary>Everything besides weights and optimizer moments that a resumed run needs to continue bit for bit.</summary>
public sealed record TrainerState
{
    /// <summary>Optimizer updates completed.</summary>
    public int Step { get; init; }
    /// <summary>Training windows handed out so far.</summary>
    public long Samples { get; init; }
    /// <summary>Windows handed out per source, in source order.</summary>
    public long[] SourceSamples { get; init; } = [];
    /// <summary>Source names in the order of <see cref="SourceSamples"/>.</summary>
    public string[] SourceNames { get; init; } = [];
    /// <summary>Training tokens consumed.</summary>
    public long Tokens { get; init; }
    /// <summary>The run's seed (a resume under another seed would not reproduce).</summary>
    public ulong Seed { get; init; }
    /// <summary>Wall-clock seconds spent training before this checkpoint.</summary>
    public double ElapsedSeconds { get; init; }
}
