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

/// <summary>
/// What every run over preference pairs shares (DPO, a reward model): the base loaded once by the inference loader
/// (frozen, in its stored type), LoRA adapters over it, the training and held-out pairs, AdamW, the schedule, the pair
/// order, checkpoints and the run record a resume is checked against. A subclass supplies the objective;
/// <see cref="PreferenceTrainer"/> drives it.
/// </summary>
public abstract class PreferenceRun : IDisposable
{
    /// <summary>The base, adapters and pairs a run starts from, before its objective exists.</summary>
    protected sealed record Prepared(FineTuneOptions Options, LoadedModel Loaded, ComputePool Pool, LoraAdapters Adapters, TrainingModel Model,
        List<PreferencePair> Training, List<PreferencePair> Validation, bool Writer) : IDisposable
    {
        public void Dispose()
        {
            Loaded.Dispose();
            Pool.Dispose();
        }
    }

    /// <summary>A run over <paramref name="prepared"/>; <paramref name="extraTrainable"/> are tensors that train beside the adapters (a head).</summary>
    protected PreferenceRun(Prepared prepared, IEnumerable<ParameterTensor> extraTrainable)
    {
        var o = prepared.Options;
        Settings = o; Loaded = prepared.Loaded; Pool = prepared.Pool; Adapters = prepared.Adapters; Model = prepared.Model;
        Training = prepared.Training; Validation = prepared.Validation; Writer = prepared.Writer;
        Trainable = [.. Model.Parameters, .. extraTrainable];
        Optimizer = new AdamW(Trainable, new AdamWOptions { Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, WeightDecay = o.WeightDecay });
        Checkpoints = new CheckpointStore(o.Output, o.KeepCheckpoints);
        Order = new PairOrder(Training.Count, o.Seed);
        int perStep = o.BatchSize * o.GradientAccumulation;
        TotalSteps = o.Steps > 0 ? o.Steps : Math.Max(1, (int)Math.Ceiling(o.Epochs * Training.Count / perStep));
        Schedule = new LearningRateSchedule(o.LearningRate, 0, o.Warmup ?? (int)Math.Ceiling(0.1 * TotalSteps), TotalSteps);
    }

    /// <summary>Whether this process writes the run's files (rank 0 under data parallelism, else always).</summary>
    public bool Writer { get; }

    /// <summary>The method's name in progress lines and the run record ("dpo", "reward").</summary>
    public abstract string Method { get; }
    /// <summary>The training settings, with the method (LoRA or QLoRA) set from the base's stored type.</summary>
    public FineTuneOptions Settings { get; }
    /// <summary>The base as the inference loader bound it.</summary>
    public LoadedModel Loaded { get; }
    /// <summary>Compute threads.</summary>
    public ComputePool Pool { get; }
    /// <summary>The adapters being trained.</summary>
    public LoraAdapters Adapters { get; }
    /// <summary>The frozen base with the adapters.</summary>
    public TrainingModel Model { get; }
    /// <summary>Training pairs.</summary>
    public List<PreferencePair> Training { get; }
    /// <summary>Held-out pairs (may be empty).</summary>
    public List<PreferencePair> Validation { get; }
    /// <summary>Everything that trains: the adapters, then any head.</summary>
    public IReadOnlyList<ParameterTensor> Trainable { get; }
    /// <summary>AdamW over <see cref="Trainable"/>.</summary>
    public AdamW Optimizer { get; }
    /// <summary>OUTPUT/checkpoints.</summary>
    public CheckpointStore Checkpoints { get; }
    /// <summary>Which pair comes next.</summary>
    public PairOrder Order { get; }
    /// <summary>Optimizer updates in the run.</summary>
    public int TotalSteps { get; }
    /// <summary>Linear warmup (10% of the run unless --warmup) then cosine decay to 0, as TRL's examples use.</summary>
    public LearningRateSchedule Schedule { get; }
    /// <summary>The state restored from a checkpoint, or null for a fresh run.</summary>
    public TrainerState? Resumed { get; private set; }

    /// <summary>Adds <paramref name="weight"/>·∇ loss of training pair <paramref name="index"/> to the gradients and returns its terms.</summary>
    public abstract PreferenceTerms Accumulate(int index, double weight);

    /// <summary>The terms of held-out pair <paramref name="index"/> under the model as it is; no gradients.</summary>
    public abstract PreferenceTerms Evaluate(int index);

    /// <summary>Zeroes the gradients of everything that trains.</summary>
    public void ZeroGradients()
    {
        foreach (var p in Trainable) Array.Clear(p.Gradient!);
    }

    /// <summary>A checkpoint's weights: the adapter in PEFT's layout plus the exact trained tensors (a head's among them).</summary>
    public void WriteWeights(string directory)
    {
        PeftAdapter.Write(directory, Adapters.ToWeights(), Settings.Model, 0, Settings.Rank, Settings.Alpha);
        AdapterState.Write(directory, Trainable);
    }

    /// <summary>OUTPUT/adapter in PEFT's layout (and whatever else the method adds), written aside and renamed into place; returns the adapter's directory.</summary>
    public virtual string WriteFinal()
    {
        var o = Settings;
        string final = Path.Combine(o.Output, "adapter"), partial = final + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, true);
        Directory.CreateDirectory(partial);
        PeftAdapter.Write(partial, Adapters.ToWeights(), o.Model, 0, o.Rank, o.Alpha);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(partial, final);
        return final;
    }

    /// <summary>What a resumed run must share with the run it continues beyond the common settings.</summary>
    protected abstract Dictionary<string, string> MethodRecord();

    /// <summary>The run file in OUTPUT that marks a started run of this method.</summary>
    protected abstract string RunFile { get; }

    /// <summary>
    /// Loads the base and the pairs (<paramref name="maxTokens"/> at most a side; longer pairs are reported and left
    /// out) and builds adapters without dropout: the objectives weigh each side's gradient by values from a pass
    /// without it.
    /// </summary>
    /// <remarks>Under data parallelism only rank 0 is the <paramref name="writer"/>: it checks and claims the output directory, which the other ranks only read.</remarks>
    protected static Prepared Prepare(FineTuneOptions o, string runFile, Func<FineTuneOptions, int> maxTokens, Func<LoadedModel, IChatRenderer?>? chat,
        Action<string>? log, CancellationToken cancellation, bool writer = true)
    {
        if (writer) CheckOutput(o, runFile);
        var pool = new ComputePool(o.Threads > 0 ? o.Threads : Environment.ProcessorCount);
        LoadedModel? loaded = null;
        try
        {
            loaded = ModelLoader.Load(o.Model, pool);
            if (o.SequenceLength > loaded.Config.ContextLength)
                throw new ArgumentException($"--seq-len {o.SequenceLength} is longer than the model's context of {loaded.Config.ContextLength}");
            o = o with { Method = FineTuneRun.StoresQuantizedLayers(loaded) ? FineTuneMethod.QLora : FineTuneMethod.Lora };
            FineTuneRun.CheckBaseTypes(loaded, o);
            var reader = new PreferenceReader(loaded.RequireTokenizer(), chat?.Invoke(loaded));
            var pairs = reader.Read(o.Data, cancellation);
            var (training, validation) = o.ValidationData is not null ? (pairs, reader.Read(o.ValidationData, cancellation)) : PairOrder.Split(pairs, o.ValidationSplit, o.Seed);
            int limit = maxTokens(o);
            training = Fit(training, limit, o, "training", log);
            validation = Fit(validation, limit, o, "validation", log);
            if (training.Count == 0) throw new InvalidDataException($"{o.Data}: no pair fits within --seq-len {o.SequenceLength}");
            log?.Invoke($"{o.Data}: {training.Count} training pairs, {validation.Count} held out");
            var adapters = LoraAdapters.Create(loaded.Config, new LoraSettings { Rank = o.Rank, Alpha = o.Alpha, Dropout = 0, Targets = o.Targets }, o.Seed);
            var model = FrozenBaseModel.Build(loaded.Config, loaded.Model.Weights, adapters, pool);
            model.GradientCheckpointing = o.GradientCheckpointing;
            return new Prepared(o, loaded, pool, adapters, model, training, validation, writer);
        }
        catch
        {
            loaded?.Dispose();
            pool.Dispose();
            throw;
        }
    }

    /// <summary>Removes a partial checkpoint, then restores the newest one (--resume) or records the run's settings.</summary>
    protected void Start(Action<string>? log)
    {
        if (Writer) Checkpoints.RemovePartial();
        if (Settings.Resume) Restore(log);
        else if (Writer)
        {
            Directory.CreateDirectory(Settings.Output);
            File.WriteAllText(Path.Combine(Settings.Output, RunFile), JsonSerializer.Serialize(RunRecord(), new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    /// <summary>Pairs whose both sides fit <paramref name="limit"/> tokens and learn something; the rest are reported and left out.</summary>
    private static List<PreferencePair> Fit(List<PreferencePair> pairs, int limit, FineTuneOptions o, string name, Action<string>? log)
    {
        var kept = pairs.Where(p => p.Length <= limit && p.Chosen.LearnedCount > 0 && p.Rejected.LearnedCount > 0).ToList();
        if (kept.Count < pairs.Count) log?.Invoke($"{name}: {pairs.Count - kept.Count} pairs longer than --seq-len {o.SequenceLength} left out");
        return kept;
    }

    private void Restore(Action<string>? log)
    {
        var o = Settings;
        string latest = Checkpoints.Latest() ?? throw new InvalidDataException($"{o.Output}: --resume found no checkpoint to continue from");
        CheckRunFile();
        Resumed = CheckpointStore.Load(latest, directory => AdapterState.Read(directory, Trainable), Optimizer);
        Model.ParametersChanged();
        Order.Samples = Resumed.Samples;
        log?.Invoke($"resuming from {latest} (step {Resumed.Step})");
    }

    /// <summary>Refuses a started run in OUTPUT without --resume, and --resume without one.</summary>
    internal static void CheckOutput(FineTuneOptions o, string runFile)
    {
        bool started = File.Exists(Path.Combine(o.Output, runFile)) || Directory.Exists(Path.Combine(o.Output, "checkpoints"));
        if (started && !o.Resume) throw new ArgumentException($"{o.Output} already holds a run: pass --resume to continue it, or choose another --output");
        if (!started && o.Resume) throw new ArgumentException($"{o.Output}: --resume found no run to continue");
    }

    /// <summary>The settings a resumed run must share with the run it continues, to reproduce it.</summary>
    private Dictionary<string, string> RunRecord()
    {
        var record = CommonRecord(Settings, Method);
        foreach (var (key, value) in MethodRecord()) record[key] = value;
        return record;
    }

    /// <summary>The settings of <paramref name="o"/> that every adapter-training run records for its resume check.</summary>
    internal static Dictionary<string, string> CommonRecord(FineTuneOptions o, string method)
    {
        var c = CultureInfo.InvariantCulture;
        var record = new Dictionary<string, string>
        {
            ["method"] = method,
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
        return record;
    }

    private void CheckRunFile() => CheckRunFile(Path.Combine(Settings.Output, RunFile), RunRecord(), Settings.Output);

    /// <summary>Refuses to resume when a setting in <paramref name="record"/> differs from the run file's at <paramref name="path"/>.</summary>
    internal static void CheckRunFile(string path, Dictionary<string, string> record, string output)
    {
        if (!File.Exists(path)) return;
        Dictionary<string, string>? saved;
        try { saved = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid run record ({e.Message})"); }
        foreach (var (key, value) in record)
            if (saved is not null && saved.TryGetValue(key, out var before) && before != value)
                throw new ArgumentException($"--resume: --{key.Replace('_', '-')} is {value}, the run in {output} used {before}; resume with the same settings or choose another --output");
    }

    public void Dispose()
    {
        Loaded.Dispose();
        Pool.Dispose();
        GC.SuppressFinalize(this);
    }
}
