using Dclm.Checkpoints;
using System.Globalization;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>The reference model's log-probabilities of one pair's completions, with their token counts.</summary>
public readonly record struct ReferenceScores(double Chosen, double Rejected, int ChosenTokens, int RejectedTokens);

/// <summary>
/// A DPO run, resolved from <see cref="DpoOptions"/>: the policy is the base with LoRA adapters, the reference the
/// same base with the adapters switched off, so no second copy of the weights exists. The reference's
/// log-probabilities are computed once per pair before training and kept. <see cref="PreferenceTrainer"/> drives it.
/// </summary>
public sealed class DpoRun : PreferenceRun
{
    private DpoRun(DpoOptions options, Prepared prepared, int length) : base(prepared, [])
    {
        Options = options;
        Scorer = new SequenceScorer(Model, length);
        Objective = new PreferenceObjective(options.Beta, options.Loss, options.LabelSmoothing);
    }

    /// <summary>The validated options.</summary>
    public DpoOptions Options { get; }
    /// <summary>Log-probabilities of sequences through <see cref="AdapterRun.Model"/>.</summary>
    public SequenceScorer Scorer { get; }
    /// <summary>The loss.</summary>
    public PreferenceObjective Objective { get; }
    /// <summary>The reference's scores of the training pairs, by index.</summary>
    public ReferenceScores[] TrainingReference { get; private set; } = [];
    /// <summary>The reference's scores of the held-out pairs, by index.</summary>
    public ReferenceScores[] ValidationReference { get; private set; } = [];

    /// <inheritdoc/>
    public override string Method => "dpo";

    /// <inheritdoc/>
    protected override string RunFile => "align.json";

    /// <summary>Loads the base and the pairs, builds the adapters, scores every pair with the reference and, with --resume, restores the newest checkpoint.</summary>
    /// <remarks>Under data parallelism only rank 0 is the <paramref name="writer"/>: it checks and claims the output directory, which the other ranks only read.</remarks>
    public static DpoRun Create(DpoOptions options, Func<LoadedModel, IChatRenderer?>? chat = null, Action<string>? log = null, CancellationToken cancellation = default,
        bool writer = true)
    {
        options.Validate();
        // A side of n tokens runs n − 1 positions, so --seq-len positions take sides of --seq-len + 1 tokens.
        var prepared = Prepare(options.Training, "align.json", o => o.SequenceLength + 1, chat, log, cancellation, writer);
        try
        {
            int length = prepared.Training.Concat(prepared.Validation).Max(p => p.Length) - 1;
            var run = new DpoRun(options with { Training = prepared.Options }, prepared, length);
            run.ScoreReference(log, cancellation);
            run.Start(log);
            return run;
        }
        catch
        {
            prepared.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override PreferenceTerms Accumulate(int index, double weight) => Objective.Accumulate(Scorer, Training[index], TrainingReference[index], weight);

    /// <inheritdoc/>
    public override PreferenceTerms Evaluate(int index) => Objective.Evaluate(Scorer, Validation[index], ValidationReference[index]);

    /// <summary>The scores of <paramref name="pair"/> under the reference: the policy with every adapter switched off.</summary>
    public ReferenceScores ScoreWithoutAdapters(PreferencePair pair)
    {
        SetAdapters(false);
        try { return PreferenceObjective.Reference(Scorer, pair); }
        finally { SetAdapters(true); }
    }

    /// <inheritdoc/>
    protected override Dictionary<string, string> MethodRecord()
    {
        var c = CultureInfo.InvariantCulture;
        return new()
        {
            ["loss"] = Options.Loss.ToString().ToLowerInvariant(),
            ["beta"] = Options.Beta.ToString("R", c),
            ["label_smoothing"] = Options.LabelSmoothing.ToString("R", c),
        };
    }

    private void ScoreReference(Action<string>? log, CancellationToken cancellation)
    {
        ReferenceScores[] Score(List<PreferencePair> pairs) => pairs.Select(p =>
        {
            cancellation.ThrowIfCancellationRequested();
            return ScoreWithoutAdapters(p);
        }).ToArray();
        TrainingReference = Score(Training);
        ValidationReference = Score(Validation);
        log?.Invoke($"reference log-probabilities cached for {Training.Count + Validation.Count} pairs");
    }

    private void SetAdapters(bool enabled)
    {
        foreach (var adapter in Adapters.All) adapter.Enabled = enabled;
    }
}
