using Dclm.Eval.Code;
using Dclm.Eval.Data;
using Dclm.Eval.Generation;
using Dclm.Eval.Harness;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Runners;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;
using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Eval;

/// <summary>
/// Runs tasks against a model and collects their scores. The model may be in process or a server's completions
/// endpoint (<see cref="RemoteScoringModel"/>): every task kind runs either way but infill, which needs the in-process
/// tokenizer's FIM tokens. With neither, only code tasks run with canonical solutions (a harness check that needs no model).
/// </summary>
public sealed class Evaluator
{
    private readonly IDecoderModel? _model;
    private readonly IScoringModel? _scoring;
    private readonly ICompletionModel? _completions;
    private readonly PromptEncoder? _encoder;
    private readonly EvalOptions _options;
    private PythonSandbox? _sandbox;

    /// <summary>An in-process model (or none, for canonical code solutions).</summary>
    public Evaluator(IDecoderModel? model, Tokenizer? tokenizer, EvalOptions? options = null)
        : this(model is null || tokenizer is null ? null : new LocalScoringModel(model, tokenizer, (options ?? new EvalOptions()).ShareContext), model, tokenizer, options)
    {
    }

    /// <summary>
    /// Any scoring model, e.g. a server. Generation and code tasks generate with <paramref name="model"/> when given, else
    /// through <paramref name="scoring"/> when it can (<see cref="ICompletionModel"/>, as a server can).
    /// </summary>
    public Evaluator(IScoringModel? scoring, IDecoderModel? model = null, Tokenizer? tokenizer = null, EvalOptions? options = null)
    {
        _model = model;
        _scoring = scoring;
        _completions = model is not null && tokenizer is not null ? new LocalCompletionModel(model, tokenizer) : scoring as ICompletionModel;
        _encoder = scoring is null ? null : new PromptEncoder(scoring, tokenizer);
        _options = (options ?? new EvalOptions()).Validate();
    }

    /// <summary>The sandbox code tasks run in (created on first use, after probing the machine).</summary>
    public PythonSandbox Sandbox => _sandbox ??= PythonSandbox.Create(_options.Sandbox);

    /// <summary>Runs one task.</summary>
    public TaskResult Run(EvalTask task, CancellationToken cancellation = default) => task switch
    {
        HarnessTask harness => RunHarness(harness, cancellation),
        TaskSpec spec => RunFoundry(spec, cancellation),
        _ => throw new ArgumentException($"unknown task type {task.GetType().Name}"),
    };

    private TaskResult RunHarness(HarnessTask task, CancellationToken cancellation)
    {
        task.Validate();
        if (_options.DataDirectory is null) throw new ArgumentException($"task {task.Label} reads its data from --data-dir (DIR/{task.DataFolders[0]}/{task.EvaluationSplit}.jsonl or .parquet)");
        var scoring = _scoring ?? throw new ArgumentException($"task {task.Label} needs a model");
        var documents = HarnessDocuments.Load(task, new DataDirectory(_options.DataDirectory), needShots: task.Shots > 0);
        int count = Math.Min(documents.Evaluated.Count, _options.Limit ?? int.MaxValue);
        // The harness's HF model scores sequences of window + 1 tokens (the last is never fed).
        int longest = _options.MaxLength ?? (scoring is LocalScoringModel ? scoring.LongestSequence + 1 : scoring.LongestSequence);
        return HarnessTaskRunner.Run(task, documents, count, scoring, longest, _options, cancellation);
    }

    private TaskResult RunFoundry(TaskSpec spec, CancellationToken cancellation)
    {
        spec.Validate();
        var (kind, items) = TaskFileReader.Read(spec.DatasetPath, spec.Kind, spec.StripData);
        return spec.HasCategories ? RunCategories(spec, kind, items, cancellation) : RunFoundry(spec, kind, items, cancellation);
    }

    /// <summary>has_categories: one task per category (sorted, shots within it), scored as the plain mean over categories.</summary>
    private TaskResult RunCategories(TaskSpec spec, TaskKind kind, IReadOnlyList<TaskItem> items, CancellationToken cancellation)
    {
        if (items.Any(i => i.Category is null)) throw new InvalidDataException($"{spec.DatasetPath}: task {spec.Label} has has_categories but a record without a category field");
        var results = items.Select(i => i.Category!).Distinct().Order(StringComparer.Ordinal)
            .Select(c => RunFoundry(spec with { Label = $"{spec.Label}/{c}" }, kind, items.Where(i => i.Category == c).ToList(), cancellation)).ToList();
        var first = results[0];
        return first with
        {
            Label = spec.Label, Items = results.Sum(r => r.Items),
            Metrics = first.Metrics.Keys.ToDictionary(k => k, k => results.Average(r => r.Metrics[k])),
            RandomBaseline = results.Average(r => r.RandomBaseline), Seconds = results.Sum(r => r.Seconds),
            BatchedPasses = results.Sum(r => r.BatchedPasses), ItemResults = results.SelectMany(r => r.ItemResults).ToList(), Categories = results,
        };
    }

    private TaskResult RunFoundry(TaskSpec spec, TaskKind kind, IReadOnlyList<TaskItem> items, CancellationToken cancellation)
    {
        int count = Math.Min(items.Count, _options.Limit ?? int.MaxValue);
        if (kind == TaskKind.Code) return CodeTaskRunner.Run(spec, items, count, _completions, _model, _encoder, Sandbox, _options, cancellation);
        if (_scoring is null || _encoder is null)
            throw new ArgumentException($"task {spec.Label} ({TaskKinds.Name(kind)}) needs a model with a tokenizer");
        if (kind == TaskKind.Generation && _completions is null)
            throw new ArgumentException($"task {spec.Label} ({TaskKinds.Name(kind)}) generates text, which its model cannot do");
        return kind switch
        {
            TaskKind.MultipleChoice or TaskKind.Schema => ChoiceTaskRunner.Run(spec, items, count, _encoder, _scoring, _options, cancellation),
            TaskKind.LanguageModeling => LanguageModelingRunner.Run(spec, items, count, _encoder, _scoring, _options, cancellation),
            _ => GenerationRunner.Run(spec, items, count, _completions!, _encoder, _options, cancellation),
        };
    }

    /// <summary>Runs every task and gathers them with the CORE-style aggregate.</summary>
    public EvalReport RunAll(IEnumerable<EvalTask> tasks, string? modelName, Action<EvalTask>? starting = null, CancellationToken cancellation = default)
    {
        var results = new List<TaskResult>();
        foreach (var task in tasks)
        {
            starting?.Invoke(task);
            results.Add(Run(task, cancellation));
        }
        return new EvalReport
        {
            Model = modelName, CreatedUtc = DateTime.UtcNow, Tasks = results,
            Sandbox = results.Any(r => r.Kind == TaskKind.Code) ? Sandbox.Isolation.Description : null,
        };
    }
}
