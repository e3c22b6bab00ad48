using System.Globalization;
using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Training.Checkpointing;
using Dclm.Training.FineTuning;
using Dclm.Training.FineTuning.Data;
using Dclm.Training.Optimization;

namespace Dclm.Training.Alignment;

/// <summary>The reference model's log-probabilities of one pair's completions, with their token counts.</summary>
public readonly record struct ReferenceScores(double Chosen, double Rejected, int ChosenTokens, int RejectedTokens);

/// <summary>
/// A DPO run, resolved from <see cref="DpoOptions"/>: the base loaded once by the inference loader (frozen, in its stored
/// type), LoRA adapters over it, and the reference model — the same base with the adapters switched off, so no second
/// copy of the weights exists. The reference's log-probabilities are computed once per pair before training and kept.
/// <see cref="DpoTrainer"/> drives it.
/// </summary>
public sealed class DpoRun : IDisposable
{
    private const string RunFile = "align.json";

    private DpoRun(DpoOptions options, LoadedModel loaded, ComputePool pool, LoraAdapters adapters, TrainingModel model,
        List<PreferencePair> training, List<PreferencePair> validation, int length)
    {
        Options = options; Loaded = loaded; Pool = pool; Adapters = adapters; Model = model; Training = training; Validation = validation;
        Scorer = new SequenceScorer(model, length);
        Objective = new PreferenceObjective(options.Beta, options.Loss, options.LabelSmoothing);
        Optimizer = new AdamW(model.Parameters, new AdamWOptions { Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, WeightDecay = options.Training.WeightDecay });
        Checkpoints = new CheckpointStore(options.Training.Output, options.Training.KeepCheckpoints);
        Order = new PairOrder(training.Count, options.Training.Seed);
        var o = options.Training;
        int perStep = o.BatchSize * o.GradientAccumulation;
        TotalSteps = o.Steps > 0 ? o.Steps : Math.Max(1, (int)Math.Ceiling(o.Epochs * training.Count / perStep));
        Schedule = new LearningRateSchedule(o.LearningRate, 0, o.Warmup ?? (int)Math.Ceiling(0.1 * TotalSteps), TotalSteps);
    }

    /// <summary>The validated options.</summary>
    public DpoOptions Options { get; }
    /// <summary>The base as the inference loader bound it.</summary>
    public LoadedModel Loaded { get; }
    /// <summary>Compute threads.</summary>
    public ComputePool Pool { get; }
    /// <summary>The adapters being trained; switched off, the model is the reference.</summary>
    public LoraAdapters Adapters { get; }
    /// <summary>The policy: the frozen base with the adapters.</summary>
    public TrainingModel Model { get; }
    /// <summary>Log-probabilities of sequences through <see cref="Model"/>.</summary>
    public SequenceScorer Scorer { get; }
    /// <summary>The loss.</summary>
    public PreferenceObjective Objective { get; }
    /// <summary>Training pairs.</summary>
    public List<PreferencePair> Training { get; }
    /// <summary>Held-out pairs (may be empty).</summary>
    public List<PreferencePair> Validation { get; }
    /// <summary>The reference's scores of <see cref="Training"/>, by index.</summary>
    public ReferenceScores[] TrainingReference { get; private set; } = [];
    /// <summary>The reference's scores of <see cref="Validation"/>, by index.</summary>
    public ReferenceScores[] ValidationReference { get; private set; } = [];
    /// <summary>AdamW over the adapters.</summary>
    public AdamW Optimizer { get; }
    /// <summary>OUTPUT/checkpoints.</summary>
    public CheckpointStore Checkpoints { get; }
    /// <summary>Which pair comes next.</summary>
    public PairOrder Order { get; }
    /// <summary>Optimizer updates in the run.</summary>
    public int TotalSteps { get; }
    /// <summary>Linear warmup (10% of the run unless --warmup) then cosine decay to 0, as TRL's DPO examples use.</summary>
    public LearningRateSchedule Schedule { get; }
    /// <summary>The state restored from a checkpoint, or null for a fresh run.</summary>
    public TrainerState? Resumed { get; private set; }

    /// <summary>Loads the base and the pairs, builds the adapters, scores every pair with the reference and, with --resume, restores the newest checkpoint.</summary>
    /// <remarks>Under data parallelism only rank 0 is the <paramref name="writer"/>: it checks and claims the output directory, which the other ranks only read.</remarks>
    public static DpoRun Create(DpoOptions options, Func<LoadedModel, IChatRenderer?>? chat = null, Action<string>? log = null, CancellationToken cancellation = default,
        bool writer = true)
    {
        options.Validate();
        var o = options.Training;
        if (writer) CheckOutput(o);
        var pool = new ComputePool(o.Threads > 0 ? o.Threads : Environment.ProcessorCount);
        LoadedModel? loaded = null;
        try
        {
            loaded = ModelLoader.Load(o.Model, pool);
            if (o.SequenceLength > loaded.Config.ContextLength)
                throw new ArgumentException($"--seq-len {o.SequenceLength} is longer than the model's context of {loaded.Config.ContextLength}");
            o = o with { Method = FineTuneRun.StoresQuantizedLayers(loaded) ? FineTuneMethod.QLora : FineTuneMethod.Lora };
            options = options with { Training = o };
            FineTuneRun.CheckBaseTypes(loaded, o);
            var reader = new PreferenceReader(loaded.RequireTokenizer(), chat?.Invoke(loaded));
            var pairs = reader.Read(o.Data, cancellation);
            var (training, validation) = o.ValidationData is not null ? (pairs, reader.Read(o.ValidationData, cancellation)) : PairOrder.Split(pairs, o.ValidationSplit, o.Seed);
            training = Fit(training, o, "training", log);
            validation = Fit(validation, o, "validation", log);
            if (training.Count == 0) throw new InvalidDataException($"{o.Data}: no pair fits within --seq-len {o.SequenceLength}");
            log?.Invoke($"{o.Data}: {training.Count} training pairs, {validation.Count} held out");
            // Adapters train without dropout: each pair's gradient is weighted by log-probabilities from a pass without it.
            var adapters = LoraAdapters.Create(loaded.Config, new LoraSettings { Rank = o.Rank, Alpha = o.Alpha, Dropout = 0, Targets = o.Targets }, o.Seed);
            var model = FrozenBaseModel.Build(loaded.Config, loaded.Model.Weights, adapters, pool);
            model.GradientCheckpointing = o.GradientCheckpointing;
            int length = training.Concat(validation).Max(p => p.Length) - 1;
            var run = new DpoRun(options, loaded, pool, adapters, model, training, validation, length);
            run.ScoreReference(log, cancellation);
            if (writer) run.Checkpoints.RemovePartial();
            if (o.Resume) run.Restore(log);
            else if (writer) WriteRunFile(options);
            return run;
        }
        catch
        {
            loaded?.Dispose();
            pool.Dispose();
            throw;
        }
    }

    /// <summary>The scores of <paramref name="pair"/> under the reference: the policy with every adapter switched off.</summary>
    public ReferenceScores ScoreWithoutAdapters(PreferencePair pair)
    {
        SetAdapters(false);
        try { return PreferenceObjective.Reference(Scorer, pair); }
        finally { SetAdapters(true); }
    }

    /// <summary>A checkpoint's weights: the adapter in PEFT's layout plus the exact trained tensors.</summary>
    public void WriteWeights(string directory)
    {
        var o = Options.Training;
        PeftAdapter.Write(directory, Adapters.ToWeights(), o.Model, 0, o.Rank, o.Alpha);
        AdapterState.Write(directory, Model.Parameters);
    }

    /// <summary>OUTPUT/adapter in PEFT's layout, written aside and renamed into place.</summary>
    public string WriteFinal()
    {
        var o = Options.Training;
        string final = Path.Combine(o.Output, "adapter"), partial = final + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, true);
        Directory.CreateDirectory(partial);
        PeftAdapter.Write(partial, Adapters.ToWeights(), o.Model, 0, o.Rank, o.Alpha);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(partial, final);
        return final;
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

    /// <summary>Pairs whose both sides fit --seq-len + 1 tokens and learn something; the rest are reported and left out.</summary>
    private static List<PreferencePair> Fit(List<PreferencePair> pairs, FineTuneOptions o, string name, Action<string>? log)
    {
        var kept = pairs.Where(p => p.Length <= o.SequenceLength + 1 && p.Chosen.LearnedCount > 0 && p.Rejected.LearnedCount > 0).ToList();
        if (kept.Count < pairs.Count) log?.Invoke($"{name}: {pairs.Count - kept.Count} pairs longer than --seq-len {o.SequenceLength} left out");
        return kept;
    }

    private void Restore(Action<string>? log)
    {
        var o = Options.Training;
        string latest = Checkpoints.Latest() ?? throw new InvalidDataException($"{o.Output}: --resume found no checkpoint to continue from");
        CheckRunFile(Options);
        Resumed = CheckpointStore.Load(latest, directory => AdapterState.Read(directory, Model.Parameters), Optimizer);
        Model.ParametersChanged();
        Order.Samples = Resumed.Samples;
        log?.Invoke($"resuming from {latest} (step {Resumed.Step})");
    }

    private static void CheckOutput(FineTuneOptions o)
    {
        bool started = File.Exists(Path.Combine(o.Output, RunFile)) || Directory.Exists(Path.Combine(o.Output, "checkpoints"));
        if (started && !o.Resume) throw new ArgumentException($"{o.Output} already holds a run: pass --resume to continue it, or choose another --output");
        if (!started && o.Resume) throw new ArgumentException($"{o.Output}: --resume found no run to continue");
    }

    /// <summary>What a resumed run must share with the run it continues, to reproduce it.</summary>
    private static Dictionary<string, string> RunRecord(DpoOptions options)
    {
        var o = options.Training;
        var c = CultureInfo.InvariantCulture;
        return new()
        {
            ["method"] = "dpo",
            ["loss"] = options.Loss.ToString().ToLowerInvariant(),
            ["beta"] = options.Beta.ToString("R", c),
            ["label_smoothing"] = options.LabelSmoothing.ToString("R", c),
            ["model"] = Path.GetFullPath(o.Model),
            ["data"] = Path.GetFullPath(o.Data),
            ["validation_data"] = o.ValidationData is null ? "" : Path.GetFullPath(o.ValidationData),
            ["validation_split"] = o.ValidationSplit.ToString("R", c),
            ["lora_rank"] = o.Rank.ToString(c),
            ["lora_alpha"] = o.Alpha.ToString("R", c),
            ["target"] = string.Join(",", o.Targets.Select(LoraTargets.Name)),
            ["seq_len"] = o.SequenceLength.ToString(c),
            ["batch_size"] = o.BatchSize.ToString(c),
            ["grad_accum"] = o.GradientAccumulation.ToString(c),
            ["seed"] = o.Seed.ToString(c),
        };
    }

    private static void WriteRunFile(DpoOptions options)
    {
        Directory.CreateDirectory(options.Training.Output);
        File.WriteAllText(Path.Combine(options.Training.Output, RunFile), JsonSerializer.Serialize(RunRecord(options), new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void CheckRunFile(DpoOptions options)
    {
        string path = Path.Combine(options.Training.Output, RunFile);
        if (!File.Exists(path)) return;
        Dictionary<string, string>? saved;
        try { saved = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid run record ({e.Message})"); }
        foreach (var (key, value) in RunRecord(options))
            if (saved is not null && saved.TryGetValue(key, out var before) && before != value)
                throw new ArgumentException($"--resume: --{key.Replace('_', '-')} is {value}, the run in {options.Training.Output} used {before}; resume with the same settings or choose another --output");
    }

    public void Dispose()
    {
        Loaded.Dispose();
        Pool.Dispose();
    }
}
