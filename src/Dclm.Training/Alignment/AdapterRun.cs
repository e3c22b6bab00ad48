using System.Globalization;
using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Training.Checkpointing;
using Dclm.Training.FineTuning;
using Dclm.Training.Optimization;

namespace Dclm.Training.Alignment;

/// <summary>
/// What every alignment run that trains LoRA adapters over a frozen base shares (DPO, a reward model, PPO, GRPO): the
/// base loaded once by the inference loader, the adapters, the tensors that train, AdamW, the item order, checkpoints,
/// the final adapter, and the run record a resume is checked against. Subclasses supply the data and the objective.
/// </summary>
public abstract class AdapterRun : IDisposable
{
    /// <summary>A run over <paramref name="loaded"/> whose <paramref name="trainable"/> tensors (the adapters, then any head) train on <paramref name="items"/> examples.</summary>
    protected AdapterRun(FineTuneOptions settings, LoadedModel loaded, ComputePool pool, LoraAdapters adapters, TrainingModel model,
        IReadOnlyList<ParameterTensor> trainable, int items)
    {
        Loaded = loaded; Pool = pool; Adapters = adapters; Model = model; Trainable = trainable;
        Optimizer = new AdamW(trainable, new AdamWOptions { Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, WeightDecay = settings.WeightDecay });
        Checkpoints = new CheckpointStore(settings.Output, settings.KeepCheckpoints);
        Order = new PairOrder(items, settings.Seed);
    }

    /// <summary>The training settings, with the method (LoRA or QLoRA) set from the base's stored type.</summary>
    public abstract FineTuneOptions Settings { get; }
    /// <summary>The method's name in progress lines and the run record ("dpo", "reward", "ppo", "grpo").</summary>
    public abstract string Method { get; }
    /// <summary>Whether this process writes the run's files (rank 0 under data parallelism, else always).</summary>
    public virtual bool Writer => true;
    /// <summary>The base as the inference loader bound it.</summary>
    public LoadedModel Loaded { get; }
    /// <summary>Compute threads.</summary>
    public ComputePool Pool { get; }
    /// <summary>The adapters being trained.</summary>
    public LoraAdapters Adapters { get; }
    /// <summary>The frozen base with the adapters.</summary>
    public TrainingModel Model { get; }
    /// <summary>Everything that trains: the adapters, then any head.</summary>
    public IReadOnlyList<ParameterTensor> Trainable { get; }
    /// <summary>AdamW over <see cref="Trainable"/>.</summary>
    public AdamW Optimizer { get; }
    /// <summary>OUTPUT/checkpoints.</summary>
    public CheckpointStore Checkpoints { get; }
    /// <summary>Which training example comes next.</summary>
    public PairOrder Order { get; }
    /// <summary>The state restored from a checkpoint, or null for a fresh run.</summary>
    public TrainerState? Resumed { get; private set; }

    /// <summary>The run file in OUTPUT that marks a started run of this method.</summary>
    protected abstract string RunFile { get; }

    /// <summary>What a resumed run must share with the run it continues beyond the common settings.</summary>
    protected abstract Dictionary<string, string> MethodRecord();

    /// <summary>Call after the trainable values changed: the training graph's caches (and whatever a subclass serves from them).</summary>
    public virtual void ParametersChanged() => Model.ParametersChanged();

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

    /// <summary>Called once a checkpoint is restored into <see cref="Trainable"/> and <see cref="Optimizer"/>, before <see cref="ParametersChanged"/>.</summary>
    protected virtual void Restored(TrainerState state)
    {
    }

    private void Restore(Action<string>? log)
    {
        var o = Settings;
        string latest = Checkpoints.Latest() ?? throw new InvalidDataException($"{o.Output}: --resume found no checkpoint to continue from");
        CheckRunFile(Path.Combine(o.Output, RunFile), RunRecord(), o.Output);
        var state = CheckpointStore.Load(latest, directory => AdapterState.Read(directory, Trainable), Optimizer);
        Resumed = state;
        Restored(state);
        ParametersChanged();
        Order.Samples = state.Samples;
        log?.Invoke($"resuming from {latest} (step {state.Step})");
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

    /// <summary>Releases the base and the compute threads.</summary>
    public virtual void Dispose()
    {
        Loaded.Dispose();
        Pool.Dispose();
        GC.SuppressFinalize(this);
    }
}
