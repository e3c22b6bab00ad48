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
    /// <summary>Called after each item with (done, total).</summary>
    public Action<int, int>? Progress { get; init; }

    /// <summary>Checks ranges and names the offending field.</summary>
    public EvalOptions Validate()
    {
        if (Limit is < 1) throw new ArgumentException($"limit {Limit} must be at least 1");
        if (SandboxParallelism < 1 || SandboxParallelism > 256) throw new ArgumentException($"sandbox parallelism {SandboxParallelism} must be in [1, 256]");
        Sandbox.Validate();
        return this;
    }
}
