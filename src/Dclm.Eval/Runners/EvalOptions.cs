using Dclm.Eval.Code;

namespace Dclm.Eval.Runners;

/// <summary>Settings that apply to every task of a run.</summary>
public sealed record EvalOptions
{
    /// <summary>Evaluate only the first N items of each task; null = all.</summary>
    public int? Limit { get; init; }
    /// <summary>Seed for sampled generations (code tasks).</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Share each question's context across its choices (false: one full forward pass per choice, the slow reference).</summary>
    public bool ShareContext { get; init; } = true;
    /// <summary>Code tasks: run the canonical solutions instead of model completions (checks the harness, needs no model).</summary>
    public bool UseCanonicalSolutions { get; init; }
    /// <summary>Code tasks: sandbox limits.</summary>
    public SandboxOptions Sandbox { get; init; } = new();
    /// <summary>Code tasks: programs run at once.</summary>
    public int SandboxParallelism { get; init; } = Math.Max(2, Environment.ProcessorCount);
    /// <summary>Resamples for bootstrapped standard errors (perplexity), as the harness's bootstrap_iters; 0 skips them.</summary>
    public int BootstrapIterations { get; init; } = Reports.Statistics.DefaultBootstrapIterations;
    /// <summary>The data directory harness tasks read their splits from (DIR/&lt;task&gt;/&lt;split&gt;.jsonl|parquet).</summary>
    public string? DataDirectory { get; init; }
    /// <summary>
    /// Longest scored sequence (context + continuation), cut from the left. Null: the model's; for harness tasks in process
    /// window + 1, as the harness's HF model; llm-foundry tasks never exceed the model's window.
    /// </summary>
    public int? MaxLength { get; init; }

    /// <summary>The longest sequence llm-foundry tasks score on <paramref name="model"/>: <see cref="MaxLength"/> within its window.</summary>
    internal int LongestFor(Scoring.IScoringModel model) => Math.Min(MaxLength ?? int.MaxValue, model.LongestSequence);
    /// <summary>Keep every harness request's texts, token ids and score in the report (lm-evaluation-harness's --log_samples).</summary>
    public bool LogSamples { get; init; }
    /// <summary>Called after each item with (done, total).</summary>
    public Action<int, int>? Progress { get; init; }

    /// <summary>Checks ranges and names the offending field.</summary>
    public EvalOptions Validate()
    {
        if (BootstrapIterations < 0) throw new ArgumentException($"bootstrap iterations {BootstrapIterations} must be at least 0");
        if (MaxLength is < 2) throw new ArgumentException($"max length {MaxLength} must be at least 2");
        if (Limit is < 1) throw new ArgumentException($"limit {Limit} must be at least 1");
        if (SandboxParallelism < 1 || SandboxParallelism > 256) throw new ArgumentException($"sandbox parallelism {SandboxParallelism} must be in [1, 256]");
        Sandbox.Validate();
        return this;
    }
}
