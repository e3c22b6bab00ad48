using Dclm.Inference;

namespace Dclm.Eval.Reports;

/// <summary>
/// Output stability of a generation or code task's completions, the same signals the server exports on /metrics: means over
/// completions of each one's mean token log-probability and entropy (nats) and its rep-4 repetition rate, and how many came
/// out empty or were cut by the token budget.
/// </summary>
public sealed record OutputStabilitySummary
{
    /// <summary>Completions measured.</summary>
    public int Outputs { get; init; }
    /// <summary>Mean over completions of the mean token log-probability.</summary>
    public double MeanLogprob { get; init; }
    /// <summary>Mean over completions of the mean token entropy.</summary>
    public double MeanEntropy { get; init; }
    /// <summary>Mean over completions of the rep-4 repetition rate.</summary>
    public double RepetitionRate { get; init; }
    /// <summary>Completions with no visible text.</summary>
    public int Empty { get; init; }
    /// <summary>Completions cut by the token budget.</summary>
    public int Truncated { get; init; }

    /// <summary>The summary of <paramref name="outputs"/>; null when there are none.</summary>
    public static OutputStabilitySummary? Of(IReadOnlyCollection<OutputStability> outputs)
    {
        if (outputs.Count == 0) return null;
        var measured = outputs.Where(o => o.MeasuredTokens > 0).ToList();
        return new OutputStabilitySummary
        {
            Outputs = outputs.Count,
            MeanLogprob = measured.Count == 0 ? double.NaN : measured.Average(o => o.MeanLogprob),
            MeanEntropy = measured.Count == 0 ? double.NaN : measured.Average(o => o.MeanEntropy),
            RepetitionRate = outputs.Average(o => o.RepetitionRate),
            Empty = outputs.Count(o => o.Empty), Truncated = outputs.Count(o => o.Truncated),
        };
    }
}
