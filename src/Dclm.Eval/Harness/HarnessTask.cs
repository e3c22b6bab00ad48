using Dclm.Eval.Tasks;

namespace Dclm.Eval.Harness;

/// <summary>How an lm-evaluation-harness task is scored (its <c>output_type</c>).</summary>
public enum HarnessOutputType
{
    /// <summary>One log-likelihood request per choice; acc = argmax, acc_norm = argmax of log-likelihood per character.</summary>
    MultipleChoice,
    /// <summary>One (context, target) request; acc = the target is the greedy continuation, perplexity = exp(−mean log-likelihood).</summary>
    LogLikelihood,
}

/// <summary>How few-shot examples are drawn (the harness's <c>fewshot_config.sampler</c>).</summary>
public enum FewShotSampling
{
    /// <summary><c>random.Random(seed).sample</c> over the few-shot split, one generator for the task's documents in order.</summary>
    Random,
    /// <summary>The first n documents of the few-shot split, in order (MMLU's dev examples).</summary>
    FirstN,
}

/// <summary>
/// One lm-evaluation-harness task, as its YAML file defines it: where the data lies, which splits are
/// evaluated and give shots, the document-to-prompt fields and delimiters, and the metrics.
/// </summary>
public sealed record HarnessTask : EvalTask
{
    /// <summary>The group the task reports under (e.g. "mmlu"), or null.</summary>
    public string? Group { get; init; }
    /// <summary>The task's category inside its group (MMLU: stem, humanities, social_sciences, other), or null.</summary>
    public string? Category { get; init; }
    /// <summary>The short name the harness prints (MMLU: the subject).</summary>
    public string? Alias { get; init; }
    /// <summary>The YAML file the task came from.</summary>
    public required string SourceFile { get; init; }
    /// <summary>Folders under the data directory that may hold the task's splits, first match wins.</summary>
    public required IReadOnlyList<string> DataFolders { get; init; }
    /// <summary>When set, rows whose field (if present) differs from the value are skipped: one subject out of a file of all.</summary>
    public (string Field, string Value)? RowFilter { get; init; }
    /// <summary>Scoring.</summary>
    public HarnessOutputType OutputType { get; init; } = HarnessOutputType.MultipleChoice;
    /// <summary>training_split.</summary>
    public string? TrainingSplit { get; init; }
    /// <summary>validation_split.</summary>
    public string? ValidationSplit { get; init; }
    /// <summary>test_split.</summary>
    public string? TestSplit { get; init; }
    /// <summary>fewshot_split (null: training, else validation, else test, as the harness falls back).</summary>
    public string? FewShotSplit { get; init; }
    /// <summary>fewshot_config.sampler.</summary>
    public FewShotSampling Sampler { get; init; } = FewShotSampling.Random;
    /// <summary>Seed of the few-shot generator (the harness's fewshot_random_seed, 1234).</summary>
    public int FewShotSeed { get; init; } = 1234;
    /// <summary>Text before the shots (MMLU: "The following are multiple choice questions (with answers) about …\n\n").</summary>
    public string Description { get; init; } = "";
    /// <summary>process_docs, applied to the evaluated split and (without an explicit fewshot_split) the shots' split.</summary>
    public DocumentProcessor? ProcessDocs { get; init; }
    /// <summary>doc_to_text.</summary>
    public required DocField DocToText { get; init; }
    /// <summary>doc_to_target.</summary>
    public required DocField DocToTarget { get; init; }
    /// <summary>doc_to_choice (multiple-choice tasks).</summary>
    public DocField? DocToChoice { get; init; }
    /// <summary>Between a question and its answer (a space).</summary>
    public string TargetDelimiter { get; init; } = " ";
    /// <summary>After each shot (a blank line).</summary>
    public string FewShotDelimiter { get; init; } = "\n\n";
    /// <summary>The metrics the task's metric_list names (acc, acc_norm, perplexity).</summary>
    public required IReadOnlyList<string> Metrics { get; init; }

    /// <summary>The split evaluated: test when the task has one, else validation.</summary>
    public string EvaluationSplit => TestSplit ?? ValidationSplit ?? throw new InvalidDataException($"{SourceFile}: task {Label} has neither test_split nor validation_split");

    /// <summary>Checks ranges and names the offending field.</summary>
    public HarnessTask Validate()
    {
        if (Shots is < 0 or > 1000) throw new ArgumentException($"task {Label}: shots {Shots} must be in [0, 1000]");
        if (OutputType == HarnessOutputType.MultipleChoice && DocToChoice is null) throw new InvalidDataException($"{SourceFile}: task {Label} is multiple_choice but has no doc_to_choice");
        return this;
    }
}
