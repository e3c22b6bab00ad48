namespace Dclm.Eval.Tasks;

/// <summary>
/// A task to run: an llm-foundry in-context-learning task (<see cref="TaskSpec"/>, DCLM's CORE suite) or an
/// lm-evaluation-harness task (<see cref="Harness.HarnessTask"/>). Each keeps its reference's own prompt and scoring rules.
/// </summary>
public abstract record EvalTask
{
    /// <summary>Name shown in reports.</summary>
    public required string Label { get; init; }
    /// <summary>Few-shot examples put before each question.</summary>
    public int Shots { get; init; }
}
