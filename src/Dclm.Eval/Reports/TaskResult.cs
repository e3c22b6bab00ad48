using Dclm.Eval.Tasks;

namespace Dclm.Eval.Reports;

/// <summary>How one choice (or schema context) of a question scored.</summary>
public sealed record ChoiceResult(string Text, double LogProbability, int Tokens, int Bytes)
{
    /// <summary>Mean per-token cross-entropy (nats).</summary>
    public double MeanCrossEntropy => -LogProbability / Tokens;
}

/// <summary>
/// One log-likelihood request as sent to the model (with --log-samples, as lm-evaluation-harness's
/// --log_samples): its texts, its token ids before any cut to the window, and what it scored.
/// </summary>
public sealed record RequestResult(string Context, string Continuation, int[] ContextTokens, int[] ContinuationTokens, double LogProbability, bool Greedy);

/// <summary>The outcome of one item, kept for inspection.</summary>
public sealed record ItemResult
{
    /// <summary>The item's id.</summary>
    public required string Id { get; init; }
    /// <summary>Correct under the task's primary metric (for code: at least one sample passed).</summary>
    public required bool Correct { get; init; }
    /// <summary>The text the model read before the continuation: prompt string, shots and the question's context.</summary>
    public string? Prompt { get; init; }
    /// <summary>Index of the correct choice or context.</summary>
    public int? Gold { get; init; }
    /// <summary>Index picked by mean per-token cross-entropy.</summary>
    public int? Predicted { get; init; }
    /// <summary>Index picked by total log-probability.</summary>
    public int? PredictedUnnormalized { get; init; }
    /// <summary>Index picked by log-probability per UTF-8 byte of the continuation.</summary>
    public int? PredictedByteNormalized { get; init; }
    /// <summary>Index picked by log-probability per character of the choice (lm-evaluation-harness's acc_norm).</summary>
    public int? PredictedCharacterNormalized { get; init; }
    /// <summary>Each choice's context, when the choices differ in context (Winogrande-style partial scoring).</summary>
    public IReadOnlyList<string>? Contexts { get; init; }
    /// <summary>With --log-samples: every request of the item, with its token ids and score.</summary>
    public IReadOnlyList<RequestResult>? Requests { get; init; }
    /// <summary>The continuation every context shares, for partial scoring.</summary>
    public IReadOnlyList<string>? Continuations { get; init; }
    /// <summary>Scores of every choice.</summary>
    public IReadOnlyList<ChoiceResult>? Choices { get; init; }
    /// <summary>The expected continuation or answer.</summary>
    public string? Expected { get; init; }
    /// <summary>Generated text (generation tasks) or the first completion (code tasks).</summary>
    public string? Output { get; init; }
    /// <summary>Code tasks with more than one sample: every completion, in sample order.</summary>
    public IReadOnlyList<string>? Completions { get; init; }
    /// <summary>Code tasks: how many samples passed the tests, of <see cref="Samples"/>.</summary>
    public int? Passed { get; init; }
    /// <summary>Code tasks: samples run.</summary>
    public int? Samples { get; init; }
    /// <summary>Code tasks: why each sample failed ("passed", "failed", "timeout", ...).</summary>
    public IReadOnlyList<string>? Outcomes { get; init; }
}

/// <summary>Scores of one task.</summary>
public sealed record TaskResult
{
    /// <summary>Task name.</summary>
    public required string Label { get; init; }
    /// <summary>Scoring kind.</summary>
    public required TaskKind Kind { get; init; }
    /// <summary>Where the items came from.</summary>
    public required string DatasetPath { get; init; }
    /// <summary>Whose definition the task follows: "llm-foundry" (DCLM's CORE) or "lm-evaluation-harness".</summary>
    public string Reference { get; init; } = "llm-foundry";
    /// <summary>The group the task reports under (e.g. "mmlu"), or null.</summary>
    public string? Group { get; init; }
    /// <summary>The category inside the group (MMLU: stem, humanities, social_sciences, other), or null.</summary>
    public string? Category { get; init; }
    /// <summary>The short name inside the group (MMLU: the subject), or null.</summary>
    public string? Alias { get; init; }
    /// <summary>Few-shot examples per question.</summary>
    public int Shots { get; init; }
    /// <summary>Items evaluated.</summary>
    public required int Items { get; init; }
    /// <summary>Name of the primary metric, e.g. "accuracy" or "pass@1".</summary>
    public required string PrimaryMetric { get; init; }
    /// <summary>Every metric by name (accuracies and pass@k in [0, 1]).</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>Random-guess rate r of the primary metric.</summary>
    public required double RandomBaseline { get; init; }
    /// <summary>Wall time in seconds.</summary>
    public double Seconds { get; init; }
    /// <summary>Forward passes that scored whole questions (one per question for choice tasks).</summary>
    public long BatchedPasses { get; init; }
    /// <summary>Per-item outcomes.</summary>
    public IReadOnlyList<ItemResult> ItemResults { get; init; } = [];
    /// <summary>Generation and code tasks: how the completions looked to the model (log-probability, entropy, repetition, empty, cut).</summary>
    public OutputStabilitySummary? Stability { get; init; }
    /// <summary>With llm-foundry's has_categories: each category's result; the task's metrics are their plain means.</summary>
    public IReadOnlyList<TaskResult>? Categories { get; init; }

    /// <summary>The primary metric's value.</summary>
    public double Accuracy => Metrics[PrimaryMetric];
    /// <summary>Centred accuracy (acc − r) / (1 − r): 0 at chance, 1 when perfect (DCLM's CORE ingredient).</summary>
    public double CenteredAccuracy => Centering.Center(Accuracy, RandomBaseline);
    /// <summary>Items per second.</summary>
    public double ItemsPerSecond => Seconds > 0 ? Items / Seconds : 0;
}

/// <summary>Centred accuracy and the CORE-style aggregate.</summary>
public static class Centering
{
    /// <summary>(acc − r) / (1 − r).</summary>
    public static double Center(double accuracy, double randomBaseline) => (accuracy - randomBaseline) / (1 - randomBaseline);

    /// <summary>Mean centred accuracy over the tasks run (DCLM's CORE when the tasks are its 22).</summary>
    public static double Core(IEnumerable<TaskResult> tasks)
    {
        var list = tasks.ToList();
        return list.Count == 0 ? double.NaN : list.Average(t => t.CenteredAccuracy);
    }
}
