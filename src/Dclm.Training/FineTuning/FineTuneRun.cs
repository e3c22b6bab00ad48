using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;
using Dclm.Training.Checkpointing;
using Dclm.Training.Data;
using Dclm.Training.FineTuning.Data;
using Dclm.Training.Optimization;
using Dclm.Models.Adapters;
using Dclm.Checkpoints.Adapters;

namespace Dclm.Training.FineTuning;

/// <summary>
/// A fine-tuning run, resolved from <see cref="FineTuneOptions"/>: the base loaded by the inference loader (its
/// weights used where they are, frozen), the adapters (or, for full fine-tuning, every parameter), the packed
/// training and validation data, AdamW and the checkpoint store. <see cref="Trainer"/> drives it.
/// </summary>
public sealed class FineTuneRun : ITrainingRun, IDisposable
{
    private const string RunFile = "finetune.json";
    private readonly PackedExamples? _validation;

    private FineTuneRun(FineTuneOptions options, LoadedModel loaded, ComputePool pool, LoraAdapters? adapters, ModelParameters? parameters,
        TrainingModel model, PackedExamples training, PackedExamples? validation, TrainerState? resumed, TrainerSettings settings)
    {
        Options = options; Loaded = loaded; Pool = pool; Adapters = adapters; Parameters = parameters; Model = model;
        Training = training; _validation = validation; Resumed = resumed; Settings = settings;
        Optimizer = new AdamW(model.Parameters, new AdamWOptions { Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, WeightDecay = options.WeightDecay });
        Checkpoints = new CheckpointStore(options.Output, options.KeepCheckpoints);
    }

    /// <summary>The validated options.</summary>
    public FineTuneOptions Options { get; }
    /// <summary>The base, as the inference loader bound it.</summary>
    public LoadedModel Loaded { get; }
    /// <summary>The adapters being trained (LoRA and QLoRA), else null.</summary>
    public LoraAdapters? Adapters { get; }
    /// <summary>Every parameter (full fine-tuning), else null.</summary>
    public ModelParameters? Parameters { get; }
    /// <summary>The training stream.</summary>
    public PackedExamples Training { get; }
    /// <summary>The held-out examples, or null.</summary>
    public PackedExamples? Validation => _validation;
    public TrainerSettings Settings { get; }
    public TrainingModel Model { get; }
    public AdamW Optimizer { get; }
    public ComputePool Pool { get; }
    public CheckpointStore Checkpoints { get; }
    public TrainerState? Resumed { get; private set; }
    public string[] SourceNames => [Path.GetFileName(Options.Data)];
    public ITrainingData Data => Training;

    /// <summary>
    /// Resolves <paramref name="options"/>: loads the base and the data, builds the model, and with --resume restores
    /// the newest checkpoint. <paramref name="chat"/> gives the base's chat template for "messages" lines;
    /// <paramref name="log"/> receives one-line notes. Under data parallelism only rank 0 is the
    /// <paramref name="writer"/>: it checks and claims the output directory, which the other ranks only read.
    /// </summary>
    public static FineTuneRun Create(FineTuneOptions options, Func<LoadedModel, IChatRenderer?>? chat = null, Action<string>? log = null,
        CancellationToken cancellation = default, bool writer = true)
    {
        options.Validate();
        if (writer) CheckOutput(options);
        var pool = new ComputePool(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        LoadedModel? loaded = null;
        try
        {
            loaded = ModelLoader.Load(options.Model, pool);
            var config = loaded.Config;
            if (options.SequenceLength > config.ContextLength)
                throw new ArgumentException($"--seq-len {options.SequenceLength} is longer than the model's context of {config.ContextLength}");
            var tokenizer = loaded.RequireTokenizer();
            var reader = new ExampleReader(tokenizer, chat?.Invoke(loaded));
            var (examples, formats) = reader.Read(options.Data, cancellation);
            log?.Invoke($"{options.Data}: {examples.Count} examples ({string.Join(", ", formats.Select(f => $"{f.Value} {Describe(f.Key)}"))})");
            var (train, held) = Split(examples, options, reader, log, cancellation);
            int padding = tokenizer.PaddingId ?? tokenizer.EndOfSequenceId ?? 0;
            var training = new PackedExamples(train, options.SequenceLength, options.Seed, padding);
            var validation = held.Count > 0 ? new PackedExamples(held, options.SequenceLength, options.Seed, padding) : null;
            Report(training, "training", options, log);
            if (validation is not null) Report(validation, "validation", options, log);
            if (training.Count == 0) throw new InvalidDataException($"{options.Data}: no example has a token to learn within --seq-len {options.SequenceLength}");

            LoraAdapters? adapters = null;
            ModelParameters? parameters = null;
            TrainingModel model;
            if (options.Method == FineTuneMethod.Full)
            {
                if (config.Architecture != Architecture.OpenLm) throw new ArgumentException($"--method full trains open_lm (DCLM) models; {options.Model} is {config.Architecture}: use --method lora");
                parameters = new ModelParameters(config);
                ModelWeightsReader.Read(loaded, parameters);
                model = TrainingModel.Full(parameters, pool);
            }
            else
            {
                CheckBaseTypes(loaded, options);
                adapters = LoraAdapters.Create(config, new LoraSettings { Rank = options.Rank, Alpha = options.Alpha, Dropout = options.Dropout, Targets = options.Targets }, options.Seed);
                model = FrozenBaseModel.Build(config, loaded.Model.Weights, adapters, pool);
            }
            model.GradientCheckpointing = options.GradientCheckpointing;
            int total = options.Steps > 0 ? options.Steps
                : Math.Max(1, (int)Math.Ceiling(options.Epochs * training.Count / (options.BatchSize * options.GradientAccumulation)));
            var settings = new TrainerSettings
            {
                TotalSteps = total, BatchSize = options.BatchSize, SequenceLength = options.SequenceLength, GradientAccumulation = options.GradientAccumulation,
                LearningRate = options.LearningRate, MinLearningRate = 0, Warmup = options.Warmup ?? (int)Math.Ceiling(0.03 * total),
                GradientClip = options.GradientClip, ZLoss = 0, EvalEvery = options.EvalEvery, CheckpointEvery = options.CheckpointEvery,
                Seed = options.Seed, Output = options.Output,
            };
            var run = new FineTuneRun(options, loaded, pool, adapters, parameters, model, training, validation, null, settings);
            if (writer) run.Checkpoints.RemovePartial();
            if (options.Resume) run.Restore(log);
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

    public IEnumerable<TrainingBatch> ValidationBatches() => _validation?.Batches(Options.BatchSize) ?? [];

    /// <summary>A checkpoint's weights: the adapter in PEFT's layout plus the exact trained tensors, or the full model.</summary>
    public void WriteWeights(string directory)
    {
        if (Parameters is not null)
        {
            ModelWeightsWriter.Write(directory, Parameters, GgmlType.F32, Loaded.Tokenizer, TokenizerPath());
            return;
        }
        PeftAdapter.Write(directory, Adapters!.ToWeights(), Options.Model, Options.Dropout, Options.Rank, Options.Alpha);
        AdapterState.Write(directory, Model.Parameters);
    }

    /// <summary>OUTPUT/adapter (PEFT layout) or, for full fine-tuning, OUTPUT/final, written aside and renamed into place.</summary>
    public string WriteFinal()
    {
        string final = Path.Combine(Options.Output, Parameters is null ? "adapter" : "final"), partial = final + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, true);
        Directory.CreateDirectory(partial);
        if (Parameters is not null) ModelWeightsWriter.Write(partial, Parameters, GgmlType.F32, Loaded.Tokenizer, TokenizerPath());
        else PeftAdapter.Write(partial, Adapters!.ToWeights(), Options.Model, Options.Dropout, Options.Rank, Options.Alpha);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(partial, final);
        return final;
    }


    private string? TokenizerPath()
    {
        string path = Path.Combine(Options.Model, "tokenizer.json");
        return Directory.Exists(Options.Model) && File.Exists(path) ? path : null;
    }

    private void Restore(Action<string>? log)
    {
        string latest = Checkpoints.Latest() ?? throw new InvalidDataException($"{Options.Output}: --resume found no checkpoint to continue from");
        CheckRunFile(Options);
        Resumed = CheckpointStore.Load(latest, directory =>
        {
            if (Parameters is not null) ModelWeightsReader.Read(directory, Parameters);
            else AdapterState.Read(directory, Model.Parameters);
        }, Optimizer);
        Model.ParametersChanged();
        Training.Cursor = new DataCursor(Resumed.Samples, Resumed.SourceSamples);
        log?.Invoke($"resuming from {latest} (step {Resumed.Step})");
    }

    /// <summary>The held-out examples: the validation file's, or a seeded fraction of the data.</summary>
    private static (List<FineTuningExample> Training, List<FineTuningExample> Held) Split(List<FineTuningExample> examples, FineTuneOptions o,
        ExampleReader reader, Action<string>? log, CancellationToken cancellation)
    {
        if (o.ValidationData is not null)
        {
            var (held, _) = reader.Read(o.ValidationData, cancellation);
            return (examples, held);
        }
        int count = examples.Count < 10 || o.ValidationSplit == 0 ? 0 : Math.Max(1, (int)Math.Round(examples.Count * o.ValidationSplit));
        if (count == 0) return (examples, []);
        var random = new DeterministicRandom(o.Seed ^ 0x5E1EC7);
        var order = Enumerable.Range(0, examples.Count).ToArray();
        for (int i = order.Length - 1; i > 0; i--) { int j = random.NextInt(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        var heldOut = order.Take(count).ToHashSet();
        log?.Invoke($"holding out {count} examples for validation (--validation-split {o.ValidationSplit})");
        return (examples.Where((_, i) => !heldOut.Contains(i)).ToList(), examples.Where((_, i) => heldOut.Contains(i)).ToList());
    }

    private static void Report(PackedExamples data, string name, FineTuneOptions o, Action<string>? log)
    {
        double fill = data.Positions == 0 ? 0 : (double)data.LearnedTokens / data.Positions;
        string notes = (data.Truncated > 0 ? $", {data.Truncated} cut to --seq-len {o.SequenceLength}" : "")
            + (data.Dropped > 0 ? $", {data.Dropped} left out with nothing to learn within it" : "");
        log?.Invoke($"{name}: {data.Documents} documents packed into {data.Count} sequences of {o.SequenceLength} tokens, {data.LearnedTokens:N0} learned tokens ({fill:P0} of positions){notes}");
    }

    /// <summary>--method lora over a float base, qlora over a quantized one: the base is never converted.</summary>
    internal static void CheckBaseTypes(LoadedModel loaded, FineTuneOptions o)
    {
        var types = loaded.Model.Weights.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }).Select(m => m.Type)
            .Append(loaded.Model.Weights.Output.Type).Append(loaded.Model.Weights.TokenEmbedding.Type).Distinct().ToArray();
        string names = string.Join(", ", types.Select(GgmlTypeInfo.Name));
        foreach (var type in types)
            if (!WeightGemm.Supports(type)) throw new ArgumentException($"{o.Model} stores {GgmlTypeInfo.Name(type)} weights, which training cannot read");
        bool quantized = StoresQuantizedLayers(loaded);
        if (o.Method == FineTuneMethod.Lora && quantized)
            throw new ArgumentException($"--method lora keeps a float (f32, bf16, f16) base; {o.Model} stores {names}: use --method qlora");
        if (o.Method == FineTuneMethod.QLora && !quantized)
            throw new ArgumentException($"--method qlora trains over a quantized base; {o.Model} stores {names}: use --method lora, or quantize it first (dclm convert --type q4_0)");
    }

    /// <summary>Whether any block's projection is stored quantized (QLoRA's base) rather than in a float type.</summary>
    internal static bool StoresQuantizedLayers(LoadedModel loaded) =>
        loaded.Model.Weights.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down })
            .Any(m => m.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16));

    private static string Describe(ExampleFormat format) => format switch
    {
        ExampleFormat.Messages => "conversations",
        ExampleFormat.PromptCompletion => "prompt/completion pairs",
        _ => "texts",
    };

    /// <summary>A fresh run refuses an output that already holds one; --resume needs one.</summary>
    private static void CheckOutput(FineTuneOptions o)
    {
        bool started = File.Exists(Path.Combine(o.Output, RunFile)) || Directory.Exists(Path.Combine(o.Output, "checkpoints"));
        if (started && !o.Resume) throw new ArgumentException($"{o.Output} already holds a fine-tuning run: pass --resume to continue it, or choose another --output");
        if (!started && o.Resume) throw new ArgumentException($"{o.Output}: --resume found no run to continue");
    }

    /// <summary>What a resumed run must share with the run it continues, to reproduce it.</summary>
    private static Dictionary<string, string> RunRecord(FineTuneOptions o) => new()
    {
        ["method"] = o.Method.ToString().ToLowerInvariant(),
        ["model"] = Path.GetFullPath(o.Model),
        ["data"] = Path.GetFullPath(o.Data),
        ["validation_data"] = o.ValidationData is null ? "" : Path.GetFullPath(o.ValidationData),
        ["validation_split"] = o.ValidationSplit.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["lora_rank"] = o.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["lora_alpha"] = o.Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["lora_dropout"] = o.Dropout.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["target"] = string.Join(",", o.Targets.Select(LoraTargets.Name)),
        ["seq_len"] = o.SequenceLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["batch_size"] = o.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["grad_accum"] = o.GradientAccumulation.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["seed"] = o.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static void WriteRunFile(FineTuneOptions o)
    {
        Directory.CreateDirectory(o.Output);
        File.WriteAllText(Path.Combine(o.Output, RunFile), JsonSerializer.Serialize(RunRecord(o), new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void CheckRunFile(FineTuneOptions o)
    {
        string path = Path.Combine(o.Output, RunFile);
        if (!File.Exists(path)) return;
        Dictionary<string, string>? saved;
        try { saved = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid run record ({e.Message})"); }
        foreach (var (key, value) in RunRecord(o))
            if (saved is not null && saved.TryGetValue(key, out var before) && before != value)
                throw new ArgumentException($"--resume: --{key.Replace('_', '-')} is {value}, the run in {o.Output} used {before}; resume with the same settings or choose another --output");
    }

    public void Dispose()
    {
        Loaded.Dispose();
        Pool.Dispose();
    }
}
