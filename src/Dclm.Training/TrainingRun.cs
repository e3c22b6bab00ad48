using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;
using Dclm.Training.Checkpointing;
using Dclm.Training.Configuration;
using Dclm.Training.Data;
using Dclm.Training.Optimization;

namespace Dclm.Training;

/// <summary>
/// Everything a run needs, resolved from <see cref="TrainingOptions"/>: tokenizer, model config, data
/// sources with their held-out windows, the model, the optimizer and the checkpoint store. When the
/// output directory already holds a checkpoint, the run resumes from the newest one.
/// </summary>
public sealed class TrainingRun : ITrainingRun, IDisposable
{
    private TrainingRun(TrainingOptions options, Tokenizer? tokenizer, ModelParameters parameters, TrainingModel model, AdamW optimizer, DataMixer mixer,
        IReadOnlyList<TokenWindows> validation, CheckpointStore checkpoints, ComputePool pool, TrainerState? resumed, string[] sourceNames)
    {
        Options = options; Tokenizer = tokenizer; Parameters = parameters; Model = model; Optimizer = optimizer; Mixer = mixer;
        Validation = validation; Checkpoints = checkpoints; Pool = pool; Resumed = resumed; SourceNames = sourceNames;
        Data = new MixerData(mixer);
        Settings = new TrainerSettings
        {
            TotalSteps = options.TotalSteps, BatchSize = options.BatchSize, SequenceLength = options.SequenceLength, GradientAccumulation = options.GradientAccumulation,
            LearningRate = options.LearningRate, MinLearningRate = options.MinLearningRate, Warmup = options.Warmup, GradientClip = options.GradientClip,
            ZLoss = options.ZLoss, EvalEvery = options.EvalEvery, CheckpointEvery = options.CheckpointEvery, LogEvery = options.LogEvery,
            Seed = options.Seed, Output = options.Output,
        };
    }

    /// <summary>The loop's view of <see cref="Options"/>.</summary>
    public TrainerSettings Settings { get; }
    /// <summary>The mixer as the loop's batch stream.</summary>
    public ITrainingData Data { get; }

    /// <summary>The validated options.</summary>
    public TrainingOptions Options { get; }
    /// <summary>The tokenizer text data is encoded with and that ships with checkpoints; null for token-only data.</summary>
    public Tokenizer? Tokenizer { get; }
    /// <summary>Every parameter of the model, by checkpoint name.</summary>
    public ModelParameters Parameters { get; }
    /// <summary>The model being trained.</summary>
    public TrainingModel Model { get; }
    /// <summary>AdamW with its moments.</summary>
    public AdamW Optimizer { get; }
    /// <summary>The training-data stream.</summary>
    public DataMixer Mixer { get; }
    /// <summary>Held-out windows, one set per source (or the validation_data file).</summary>
    public IReadOnlyList<TokenWindows> Validation { get; }
    /// <summary>Where checkpoints go.</summary>
    public CheckpointStore Checkpoints { get; }
    /// <summary>Compute threads.</summary>
    public ComputePool Pool { get; }
    /// <summary>The state restored from a checkpoint, or null for a fresh run.</summary>
    public TrainerState? Resumed { get; }
    /// <summary>Source names in mixer order.</summary>
    public string[] SourceNames { get; }

    /// <summary>Resolves <paramref name="options"/>; <paramref name="log"/> receives one-line notes (what was loaded, resumed).</summary>
    public static TrainingRun Create(TrainingOptions options, Action<string>? log = null)
    {
        options.Validate();
        if (options.InitFrom is not null) options = options with { InitFrom = CheckpointStore.ResolveInitFrom(options.InitFrom) };
        var tokenizer = options.Tokenizer is not null ? Tokenizer.Load(options.Tokenizer) : null;
        var config = ResolveConfig(options, tokenizer);
        var parameters = new ModelParameters(config);
        var pool = new ComputePool(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        try
        {
            var model = TrainingModel.Full(parameters, pool);
            var optimizer = new AdamW(parameters.Tensors, new AdamWOptions { Beta1 = options.Beta1, Beta2 = options.Beta2, Epsilon = options.Epsilon, WeightDecay = options.WeightDecay });
            var (sources, stages) = ReplayMix.Apply(options);
            var (training, validation, names) = LoadData(options, sources, tokenizer, config.VocabularySize, log);
            var mixer = new DataMixer(training, stages, options.Seed);
            var store = new CheckpointStore(options.Output, options.KeepCheckpoints);
            store.RemovePartial();
            TrainerState? resumed = null;
            if (store.Latest() is { } latest)
            {
                resumed = CheckpointStore.Load(latest, directory => ModelWeightsReader.Read(directory, parameters), optimizer);
                model.ParametersChanged();
                if (resumed.Seed != options.Seed || !resumed.SourceNames.SequenceEqual(names))
                    throw new InvalidDataException($"{latest}: the checkpoint was made with another seed or other data sources; use a new --output to start over");
                mixer.Cursor = new DataCursor(resumed.Samples, resumed.SourceSamples);
                log?.Invoke($"resuming from {latest} (step {resumed.Step})");
            }
            else if (options.InitFrom is not null)
            {
                ModelWeightsReader.Read(options.InitFrom, parameters);
                model.ParametersChanged();
                // The schedule starts again (warmup included); AdamW keeps its moments and its t, so the bias correction does not restart either.
                log?.Invoke(CheckpointStore.TryLoadOptimizer(options.InitFrom, optimizer) is long step
                    ? $"continuing training from {options.InitFrom} with its AdamW state (step {step})"
                    : $"continuing training from {options.InitFrom} (no optimizer state there: AdamW starts afresh)");
            }
            else
            {
                ParameterInitializer.Initialize(parameters, options.Seed);
                model.ParametersChanged();
            }
            return new TrainingRun(options, tokenizer, parameters, model, optimizer, mixer, validation, store, pool, resumed, names);
        }
        catch
        {
            pool.Dispose();
            throw;
        }
    }

    private static ModelConfig ResolveConfig(TrainingOptions o, Tokenizer? tokenizer)
    {
        if (o.InitFrom is not null)
        {
            var found = ModelWeightsReader.ReadConfig(o.InitFrom);
            if (found.Architecture != Architecture.OpenLm) throw new ArgumentException($"{o.InitFrom}: only open_lm (DCLM) models can be trained");
            if (tokenizer is not null && tokenizer.VocabularySize > found.VocabularySize)
                throw new ArgumentException($"{o.InitFrom}: the tokenizer has {tokenizer.VocabularySize} tokens, more than the model's {found.VocabularySize}");
            return found with { ContextLength = Math.Max(found.ContextLength, o.SequenceLength) };
        }
        int vocabulary = o.VocabularySize > 0 ? o.VocabularySize
            : tokenizer is not null ? (tokenizer.VocabularySize + 63) / 64 * 64
            : throw new ArgumentException("give --tokenizer or --vocab-size");
        if (tokenizer is not null && tokenizer.VocabularySize > vocabulary)
            throw new ArgumentException($"vocab_size {vocabulary} is smaller than the tokenizer's {tokenizer.VocabularySize} tokens");
        var config = ModelConfig.OpenLm(o.Dim, o.Layers, o.Heads, vocabulary, o.SequenceLength) with { TiedEmbeddings = o.TiedEmbeddings, QueryKeyNorm = o.QkNorm ? QueryKeyNorm.FullWidth : QueryKeyNorm.None,
            SlidingWindow = o.SlidingWindow, Positions = Dclm.Checkpoints.PositionEncodingNames.Parse(o.Positions)!.Value,
        };
        if (o.HiddenDim > 0) config = config with { HiddenDim = o.HiddenDim };
        return config.Validate();
    }

    private static (List<TokenWindows> Training, List<TokenWindows> Validation, string[] Names) LoadData(TrainingOptions o, IReadOnlyDictionary<string, string> sources,
        Tokenizer? tokenizer, int vocabulary, Action<string>? log)
    {
        int window = o.SequenceLength + 1;
        var training = new List<TokenWindows>();
        var validation = new List<TokenWindows>();
        foreach (var (name, path) in sources.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var windows = new TokenWindows(name, TokenFileReader.Read(path, tokenizer, vocabulary), window);
            // The replay source is always held out: the forgetting report measures the old domain on it.
            int heldOut = (o.ValidationData is null || name == ReplayMix.SourceName) && o.ValidationFraction > 0 && windows.Count > 1
                ? Math.Max(1, (int)Math.Round(windows.Count * o.ValidationFraction)) : 0;
            var (train, held) = windows.Split(heldOut);
            training.Add(train);
            if (held.Count > 0) validation.Add(held);
            log?.Invoke($"source {name}: {train.Count} training windows of {window} tokens, {held.Count} held out ({path})");
        }
        if (o.ValidationData is not null)
            validation.Add(new TokenWindows("validation", TokenFileReader.Read(o.ValidationData, tokenizer, vocabulary), window));
        return (training, validation, training.Select(t => t.Name).ToArray());
    }

    /// <summary>The first eval_batches micro-batches of every held-out set.</summary>
    public IEnumerable<TrainingBatch> ValidationBatches() => Validation.SelectMany(ValidationBatches);

    /// <summary>The first eval_batches micro-batches of one held-out set (the batch object is reused).</summary>
    public IEnumerable<TrainingBatch> ValidationBatches(TokenWindows set)
    {
        int sequence = Options.SequenceLength, size = Options.BatchSize;
        var batch = new TrainingBatch(size, sequence);
        int batches = (set.Count + size - 1) / size;
        if (Options.EvalBatches > 0) batches = Math.Min(batches, Options.EvalBatches);
        for (int b = 0; b < batches; b++)
        {
            batch.Rows = Math.Min(size, set.Count - b * size);
            for (int r = 0; r < batch.Rows; r++) MixerData.Split(set[b * size + r], batch, r);
            yield return batch;
        }
    }

    /// <summary>A checkpoint's weights: the fp32 model in the DCLM layout, with the tokenizer.</summary>
    public void WriteWeights(string directory) => ModelWeightsWriter.Write(directory, Parameters, GgmlType.F32, Tokenizer, Options.Tokenizer);

    /// <summary>OUTPUT/final in the configured element type, written aside and renamed into place.</summary>
    public string WriteFinal()
    {
        string final = Path.Combine(Options.Output, "final"), partial = Path.Combine(Options.Output, ".partial-final");
        if (Directory.Exists(partial)) Directory.Delete(partial, true);
        Directory.CreateDirectory(partial);
        var type = Options.FinalDtype switch { "bf16" => GgmlType.BF16, "f16" => GgmlType.F16, _ => GgmlType.F32 };
        ModelWeightsWriter.Write(partial, Parameters, type, Tokenizer, Options.Tokenizer);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(partial, final);
        return final;
    }

    public void Dispose() => Pool.Dispose();
}
