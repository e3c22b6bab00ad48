namespace Dclm.Inference.Engine;

/// <summary>A consistent-enough snapshot of the engine's counters and gauges, for metrics.</summary>
public sealed record EngineStatistics
{
    /// <summary>Requests waiting for a slot.</summary>
    public int WaitingSequences { get; init; }
    /// <summary>Sequences holding a slot and advancing.</summary>
    public int RunningSequences { get; init; }
    /// <summary>KV blocks held by running or cached sequences.</summary>
    public int UsedBlocks { get; init; }
    /// <summary>KV blocks in the pool.</summary>
    public int TotalBlocks { get; init; }
    /// <summary>Finished sequences kept for prefix reuse.</summary>
    public int PrefixCacheEntries { get; init; }
    /// <summary>Prompt tokens taken from the prefix cache instead of recomputed, since start.</summary>
    public long PrefixCacheHitTokens { get; init; }
    /// <summary>Prompt (and recomputed) tokens run through the model, since start.</summary>
    public long PrefillTokens { get; init; }
    /// <summary>Tokens generated, since start.</summary>
    public long GeneratedTokens { get; init; }
    /// <summary>Running sequences pushed back to the queue for lack of KV blocks, since start.</summary>
    public long Preemptions { get; init; }
    /// <summary>Forward steps run, since start.</summary>
    public long Steps { get; init; }
    /// <summary>Draft tokens the model checked (speculative decoding), since start.</summary>
    public long DraftedTokens { get; init; }
    /// <summary>Draft tokens the model kept (each saved one decode step), since start.</summary>
    public long AcceptedDraftTokens { get; init; }
    /// <summary>Accepted ÷ drafted tokens (0 before anything was drafted).</summary>
    public double DraftAcceptanceRate => DraftedTokens == 0 ? 0 : (double)AcceptedDraftTokens / DraftedTokens;
    /// <summary>Generated tokens per second over the last few seconds.</summary>
    public double TokensPerSecond { get; init; }
}
