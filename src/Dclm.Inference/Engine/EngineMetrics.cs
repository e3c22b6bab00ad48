using System.Diagnostics;
using Dclm.Models;

namespace Dclm.Inference.Engine;

/// <summary>
/// The engine's counters and gauges: the engine thread counts and publishes (under a lock, allocating nothing), and any
/// thread reads the last published values as an <see cref="EngineStatistics"/>.
/// </summary>
internal sealed class EngineMetrics(Scheduler scheduler, ModelRunner runner, KvCache cache, Func<int> incoming)
{
    private readonly object _gate = new();
    private readonly ThroughputWindow _throughput = new(TimeSpan.FromSeconds(5));
    private int _waiting, _running, _usedBlocks, _prefixEntries;
    private long _hits, _prefill, _generated, _preemptions, _steps, _drafted, _accepted;

    /// <summary>Prompt (and recomputed) tokens run through the model, since start. Engine thread.</summary>
    public long PrefillTokens { get; set; }
    /// <summary>Tokens drawn, since start. Engine thread.</summary>
    public long GeneratedTokens { get; set; }
    /// <summary>Draft tokens checked by the model (speculative decoding), since start. Engine thread.</summary>
    public long DraftedTokens { get; set; }
    /// <summary>Draft tokens the model kept, since start. Engine thread.</summary>
    public long AcceptedDraftTokens { get; set; }

    /// <summary>Counts a step that ran from <paramref name="start"/> to <paramref name="end"/> (timestamps) and emitted <paramref name="emitted"/> tokens.</summary>
    public void StepDone(long start, long end, int emitted)
    {
        lock (_gate) _throughput.Add(start, end, emitted);
    }

    /// <summary>Makes the current counts and gauges the ones readers see.</summary>
    public void Publish()
    {
        lock (_gate)
        {
            (_waiting, _running, _usedBlocks, _prefixEntries) = (scheduler.Waiting.Count + incoming(), scheduler.Running.Count, cache.UsedBlocks, scheduler.PrefixCacheEntries);
            (_hits, _prefill, _generated, _preemptions, _steps) = (scheduler.PrefixHitTokens, PrefillTokens, GeneratedTokens, scheduler.Preemptions, runner.Steps);
            (_drafted, _accepted) = (DraftedTokens, AcceptedDraftTokens);
        }
    }

    /// <summary>The last published values. Any thread.</summary>
    public EngineStatistics Read()
    {
        lock (_gate)
        {
            return new EngineStatistics
            {
                WaitingSequences = _waiting, RunningSequences = _running, UsedBlocks = _usedBlocks, TotalBlocks = cache.BlockCount,
                PrefixCacheEntries = _prefixEntries, PrefixCacheHitTokens = _hits, PrefillTokens = _prefill, GeneratedTokens = _generated,
                Preemptions = _preemptions, Steps = _steps, DraftedTokens = _drafted, AcceptedDraftTokens = _accepted, TokensPerSecond = _throughput.Rate(Stopwatch.GetTimestamp()),
            };
        }
    }
}
