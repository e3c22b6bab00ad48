namespace Dclm.Eval.Reports;

/// <summary>Everything one evaluation run produced.</summary>
public sealed record EvalReport
{
    /// <summary>The model's path, or null for harness checks without a model.</summary>
    public string? Model { get; init; }
    /// <summary>When the run finished.</summary>
    public DateTime CreatedUtc { get; init; }
    /// <summary>Per-task results, in the order run.</summary>
    public required IReadOnlyList<TaskResult> Tasks { get; init; }
    /// <summary>The sandbox's protections, when code ran.</summary>
    public string? Sandbox { get; init; }
    /// <summary>Groups and categories (MMLU and its four) pooled from their tasks, as the harness reports groups.</summary>
    public IReadOnlyList<GroupScore> Groups => GroupScore.Compute(Tasks);
    /// <summary>Mean centred accuracy over the tasks run (DCLM's CORE when they are its 22 core tasks).</summary>
    public double Core => Centering.Core(Tasks);
}
