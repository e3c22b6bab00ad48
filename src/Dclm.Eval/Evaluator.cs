using Dclm.Eval.Code;
using Dclm.Eval.Prompting;
using Dclm.Eval.Reports;
using Dclm.Eval.Runners;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;
using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Eval;

/// <summary>
/// Runs tasks against a model and collects their scores. The model and tokenizer may be null only for
/// code tasks run with canonical solutions (a harness check that needs no model).
/// </summary>
public sealed class Evaluator
{
    private readonly DecoderModel? _model;
    private readonly PromptEncoder? _encoder;
    private readonly EvalOptions _options;
    private readonly LogLikelihoodScorer? _scorer;
    private PythonSandbox? _sandbox;

    public Evaluator(DecoderModel? model, Tokenizer? tokenizer, EvalOptions? options = null)
    {
        _model = model;
        _encoder = tokenizer is null ? null : new PromptEncoder(tokenizer);
        _options = (options ?? new EvalOptions()).Validate();
        _scorer = model is null ? null : new LogLikelihoodScorer(model, _options.ShareContext);
    }

    /// <summary>The sandbox code tasks run in (created on first use, after probing the machine).</summary>
    public PythonSandbox Sandbox => _sandbox ??= PythonSandbox.Create(_options.Sandbox);

    /// <summary>Runs one task.</summary>
    public TaskResult Run(TaskSpec spec, CancellationToken cancellation = default)
    {
        spec.Validate();
        var (kind, items) = TaskFileReader.Read(spec.DatasetPath, spec.Kind, spec.StripData);
        int count = Math.Min(items.Count, _options.Limit ?? int.MaxValue);
        if (kind == TaskKind.Code) return CodeTaskRunner.Run(spec, items, count, _model, _encoder, Sandbox, _options, cancellation);
        if (_model is null || _encoder is null || _scorer is null)
            throw new ArgumentException($"task {spec.Label} ({TaskKinds.Name(kind)}) needs a model with a tokenizer");
        return kind switch
        {
            TaskKind.MultipleChoice or TaskKind.Schema => ChoiceTaskRunner.Run(spec, items, count, _encoder, _scorer, _options, cancellation),
            TaskKind.LanguageModeling => LanguageModelingRunner.Run(spec, items, count, _encoder, _scorer, _options, cancellation),
            _ => GenerationRunner.Run(spec, items, count, _model, _encoder, _options, cancellation),
        };
    }

    /// <summary>Runs every task and gathers them with the CORE-style aggregate.</summary>
    public EvalReport RunAll(IEnumerable<TaskSpec> specs, string? modelName, Action<TaskSpec>? starting = null, CancellationToken cancellation = default)
    {
        var results = new List<TaskResult>();
        foreach (var spec in specs)
        {
            starting?.Invoke(spec);
            results.Add(Run(spec, cancellation));
        }
        return new EvalReport
        {
            Model = modelName, CreatedUtc = DateTime.UtcNow, Tasks = results,
            Sandbox = results.Any(r => r.Kind == TaskKind.Code) ? Sandbox.Isolation.Description : null,
        };
    }
}
