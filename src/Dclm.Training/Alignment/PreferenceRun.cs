using Dclm.Checkpoints;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;
using Dclm.Training.FineTuning.Data;
using Dclm.Training.Optimization;

namespace Dclm.Training.Alignment;

/// <summary>
/// What every run over preference pairs shares (DPO, a reward model) beyond <see cref="AdapterRun"/>: the training and
/// held-out pairs, read and fitted to --seq-len, and the schedule. A subclass supplies the objective;
/// <see cref="PreferenceTrainer"/> drives it.
/// </summary>
public abstract class PreferenceRun : AdapterRun
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
        : base(prepared.Options, prepared.Loaded, prepared.Pool, prepared.Adapters, prepared.Model,
            [.. prepared.Model.Parameters, .. extraTrainable], prepared.Training.Count)
    {
        var o = prepared.Options;
        Settings = o; Training = prepared.Training; Validation = prepared.Validation; Writer = prepared.Writer;
        int perStep = o.BatchSize * o.GradientAccumulation;
        TotalSteps = o.Steps > 0 ? o.Steps : Math.Max(1, (int)Math.Ceiling(o.Epochs * Training.Count / perStep));
        Schedule = new LearningRateSchedule(o.LearningRate, 0, o.Warmup ?? (int)Math.Ceiling(0.1 * TotalSteps), TotalSteps);
    }

    /// <inheritdoc/>
    public override bool Writer { get; }
    /// <inheritdoc/>
    public override FineTuneOptions Settings { get; }
    /// <summary>Training pairs.</summary>
    public List<PreferencePair> Training { get; }
    /// <summary>Held-out pairs (may be empty).</summary>
    public List<PreferencePair> Validation { get; }
    /// <summary>Optimizer updates in the run.</summary>
    public int TotalSteps { get; }
    /// <summary>Linear warmup (10% of the run unless --warmup) then cosine decay to 0, as TRL's examples use.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>Adds <paramref name="weight"/>·∇ loss of training pair <paramref name="index"/> to the gradients and returns its terms.</summary>
    public abstract PreferenceTerms Accumulate(int index, double weight);

    /// <summary>The terms of held-out pair <paramref name="index"/> under the model as it is; no gradients.</summary>
    public abstract PreferenceTerms Evaluate(int index);

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

    /// <summary>Pairs whose both sides fit <paramref name="limit"/> tokens and learn something; the rest are reported and left out.</summary>
    private static List<PreferencePair> Fit(List<PreferencePair> pairs, int limit, FineTuneOptions o, string name, Action<string>? log)
    {
        var kept = pairs.Where(p => p.Length <= limit && p.Chosen.LearnedCount > 0 && p.Rejected.LearnedCount > 0).ToList();
        if (kept.Count < pairs.Count) log?.Invoke($"{name}: {pairs.Count - kept.Count} pairs longer than --seq-len {o.SequenceLength} left out");
        return kept;
    }
}
