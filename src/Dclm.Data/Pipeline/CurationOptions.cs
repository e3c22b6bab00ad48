namespace Dclm.Data.Pipeline;

/// <summary>Which part of a curation run to execute.</summary>
public enum CurationPhase
{
    /// <summary>Local stages for the shard, then (when the shard is the whole input) the global stages.</summary>
    All,
    /// <summary>Only the per-document stages for this shard's units.</summary>
    Local,
    /// <summary>Only dedup, quality selection, mixing and the report, over all shards' parts.</summary>
    Global,
    /// <summary>One partition of partitioned BFF (<see cref="CurationOptions.Partition"/>), after all local shards.</summary>
    Dedup,
}

/// <summary>Everything a curation run needs besides the pipeline config.</summary>
public sealed record CurationOptions(string InputPath, string OutputPath)
{
    /// <summary>Worker threads for the local stages.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>The input shard this process handles.</summary>
    public ShardSpec Shard { get; init; } = ShardSpec.All;
    /// <summary>The BFF partition a <see cref="CurationPhase.Dedup"/> worker counts.</summary>
    public ShardSpec Partition { get; init; } = ShardSpec.All;
    /// <summary>Which phase to run.</summary>
    public CurationPhase Phase { get; init; } = CurationPhase.All;
}

/// <summary>Progress of a run, for a CLI progress display.</summary>
public readonly record struct CurationProgress(string Phase, long Done, long Total);
