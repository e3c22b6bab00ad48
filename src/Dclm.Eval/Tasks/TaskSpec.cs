namespace Dclm.Eval.Tasks;

/// <summary>
/// One task to run and how to prompt it. Defaults are llm-foundry's for in-context-learning tasks:
/// a newline between examples, a space between context and continuation, seed 1234 for shots,
/// whitespace stripped from the data (except for code).
/// </summary>
public sealed record TaskSpec : EvalTask
{
    /// <summary>The JSONL (or .jsonl.gz) file holding the items.</summary>
    public required string DatasetPath { get; init; }
    /// <summary>Scoring kind; null means inferred from the fields of the first record.</summary>
    public TaskKind? Kind { get; init; }
    /// <summary>Seed of the shot sample; the same seed gives the same prompts.</summary>
    public int FewShotSeed { get; init; } = 1234;
    /// <summary>Text put once before all examples, e.g. an instruction.</summary>
    public string PromptString { get; init; } = "";
    /// <summary>Text put before every context, e.g. "Question: ".</summary>
    public string Prelimiter { get; init; } = "";
    /// <summary>Text between examples.</summary>
    public string ExampleDelimiter { get; init; } = "\n";
    /// <summary>Text between a context and its continuation, e.g. "\nAnswer:" (llm-foundry's default is a space).</summary>
    public string ContinuationDelimiter { get; init; } = " ";
    /// <summary>Strip leading and trailing whitespace from string fields and the final context, as llm-foundry does.</summary>
    public bool StripData { get; init; } = true;
    /// <summary>Random-guess accuracy in [0, 1) for centring; null derives it (1/choices for choice tasks, 0 otherwise).</summary>
    public double? RandomBaseline { get; init; }
    /// <summary>Generation tasks: text before which generation stops (llm-foundry's early_stopping_criteria; none by default).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Generation tasks: the generated text's last part after this delimiter is the answer (chain of thought).</summary>
    public string ChainOfThoughtDelimiter { get; init; } = "";
    /// <summary>Generation tasks: normalise case, punctuation, articles and whitespace before matching.</summary>
    public bool NormalizeAnswers { get; init; } = true;
    /// <summary>
    /// llm-foundry's has_categories: the items are split by their <c>category</c> field (sorted), each category
    /// runs as its own task (shots drawn within it), and the task's score is the plain mean of the
    /// categories' scores, as DCLM's eval script averages them.
    /// </summary>
    public bool HasCategories { get; init; }
    /// <summary>Code tasks: completions sampled per problem (n of pass@k).</summary>
    public int Samples { get; init; } = 1;
    /// <summary>Code tasks: the k values of pass@k to report.</summary>
    public IReadOnlyList<int> PassAtK { get; init; } = [1];
    /// <summary>Code tasks: mask part of each canonical solution and have the model fill it in (none: complete the prompt).</summary>
    public InfillMode Infill { get; init; } = InfillMode.None;
    /// <summary>Code tasks: sampling temperature (llm-foundry uses 0.2; 0 = greedy).</summary>
    public float Temperature { get; init; } = 0.2f;

    /// <summary>Checks ranges and names the offending field.</summary>
    public TaskSpec Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new ArgumentException($"task {Label}: {message}"); }
        Require(Shots >= 0 && Shots <= 1000, $"shots {Shots} must be in [0, 1000]");
        Require(RandomBaseline is null || (RandomBaseline >= 0 && RandomBaseline < 1), $"random baseline {RandomBaseline} must be in [0, 1)");
        Require(Samples >= 1 && Samples <= 1000, $"samples {Samples} must be in [1, 1000]");
        Require(PassAtK.Count > 0 && PassAtK.All(k => k >= 1 && k <= Samples), $"every pass@k value must be in [1, samples = {Samples}]");
        Require(float.IsFinite(Temperature) && Temperature >= 0 && Temperature <= 10, $"temperature {Temperature} must be in [0, 10]");
        return this;
    }
}
