using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.TestSupport;
using Dclm.Training.FineTuning;
using Dclm.Models.Adapters;
using Dclm.Checkpoints.Adapters;

namespace Dclm.Training.Tests;

/// <summary>Whole fine-tuning runs: the walk-through on the default model, exact resume, outputs and refusals.</summary>
public class FineTuneRunTests
{
    private static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    /// <summary>A tiny open_lm GGUF (f32, or quantized through the exporter) with the GPT-NeoX tokenizer.</summary>
    private static string TinyBase(string directory, GgmlType type = GgmlType.F32)
    {
        var config = ModelConfig.OpenLm(64, 2, 2, 50432, 128) with { HiddenDim = 256 };
        string path = TinyNeoXModels.Write(directory, config, 3, 0.2f, Fixture("gpt-neox-20b.vocab.gguf"));
        if (type == GgmlType.F32) return path;
        string quantized = Path.Combine(directory, $"tiny-{GgmlTypeInfo.Name(type)}.gguf");
        using var loaded = ModelLoader.Load(path);
        GgufExporter.Export(loaded, quantized, type, w => GgufTokenizerWriter.Write(w, loaded.Tokenizer!.Vocabulary));
        return quantized;
    }

    private static string Data(string directory, int count)
    {
        string path = Path.Combine(directory, "data.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"Question {i}: what is {i} plus {i}?\nAnswer:", completion = $" {2 * i}." })));
        return path;
    }

    private static FineTuneOptions Options(string model, string data, string output) => new()
    {
        Model = model, Data = data, Output = output, Rank = 4, Alpha = 8, Dropout = 0.1, SequenceLength = 64, BatchSize = 2,
        GradientAccumulation = 2, Steps = 10, LearningRate = 3e-3, Threads = 2, EvalEvery = 4, CheckpointEvery = 0, GradientCheckpointing = true,
    };

    [Fact]
    public void ResumeReproducesTheUninterruptedLossesExactly()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory), data = Data(directory, 24);
        var baseline = Options(model, data, Path.Combine(directory, "uninterrupted"));
        List<double> expected;
        using (var run = FineTuneRun.Create(baseline)) expected = new Trainer(run).Run().Losses.ToList();

        var interrupted = baseline with { Output = Path.Combine(directory, "interrupted") };
        using var stop = new CancellationTokenSource();
        List<double> first;
        using (var run = FineTuneRun.Create(interrupted))
        {
            var result = new Trainer(run).Run(new Immediate(p => { if (p.Step == 6) stop.Cancel(); }), stop.Token);
            Assert.True(result.Interrupted);
            first = result.Losses.ToList();
        }
        Assert.Throws<ArgumentException>(() => FineTuneRun.Create(interrupted));
        Assert.Throws<ArgumentException>(() => FineTuneRun.Create(interrupted with { Resume = true, Rank = 8 }));
        List<double> second;
        using (var run = FineTuneRun.Create(interrupted with { Resume = true }))
        {
            Assert.Equal(6, run.Resumed?.Step);
            second = new Trainer(run).Run().Losses.ToList();
        }
        Assert.Equal(expected, first.Concat(second).ToList());
        Assert.Equal(File.ReadAllBytes(Path.Combine(baseline.Output, "adapter", PeftAdapter.WeightsFile)),
            File.ReadAllBytes(Path.Combine(interrupted.Output, "adapter", PeftAdapter.WeightsFile)));
    }

    /// <summary>
    /// Ctrl+C inside an update (here between its two micro-batches, caught at the first block of the next forward pass)
    /// stops the run there: the half-done update is discarded, the checkpoint holds the last completed one with the data
    /// cursor before the discarded one, and the resumed run ends with the uninterrupted run's losses and adapter bytes.
    /// </summary>
    [Fact]
    public void CancellingInsideAnUpdateDiscardsItAndTheResumedRunIsExact()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory), data = Data(directory, 24);
        var baseline = Options(model, data, Path.Combine(directory, "uninterrupted")) with { Steps = 9 };
        List<double> expected;
        using (var run = FineTuneRun.Create(baseline)) expected = new Trainer(run).Run().Losses.ToList();

        var interrupted = baseline with { Output = Path.Combine(directory, "interrupted") };
        using var stop = new CancellationTokenSource();
        List<double> first;
        using (var run = FineTuneRun.Create(interrupted))
        {
            // Two micro-batches an update: the 14th batch drawn is the second half of update 7.
            var stopping = new StopOnBatch(run, 14, stop);
            var result = new Trainer(stopping).Run(null, stop.Token);
            Assert.True(result.Interrupted);
            Assert.Equal(6, result.Steps);
            Assert.Equal(14, stopping.Drawn);
            first = result.Losses.ToList();
        }
        Assert.Equal(6, first.Count);
        List<double> second;
        using (var run = FineTuneRun.Create(interrupted with { Resume = true }))
        {
            Assert.Equal(6, run.Resumed?.Step);
            // The cursor stands after 6 updates × 2 micro-batches × 2 sequences, not inside the discarded update.
            Assert.Equal(6 * 2 * 2, run.Resumed?.Samples);
            second = new Trainer(run).Run().Losses.ToList();
        }
        Assert.Equal(expected, first.Concat(second).ToList());
        Assert.Equal(File.ReadAllBytes(Path.Combine(baseline.Output, "adapter", PeftAdapter.WeightsFile)),
            File.ReadAllBytes(Path.Combine(interrupted.Output, "adapter", PeftAdapter.WeightsFile)));

        // The model itself stops at a block boundary when the token is already cancelled.
        using var again = FineTuneRun.Create(interrupted with { Output = Path.Combine(directory, "direct") });
        var batch = new TrainingBatch(interrupted.BatchSize, interrupted.SequenceLength);
        again.Data.Next(batch);
        Assert.Throws<OperationCanceledException>(() => batch.ForwardBackward(again.Model, 0f, 1f, stop.Token));
    }

    /// <summary>A run whose data cancels <paramref name="stop"/> when its <paramref name="batch"/>-th micro-batch is drawn.</summary>
    private sealed class StopOnBatch(FineTuneRun run, int batch, CancellationTokenSource stop) : ITrainingRun, ITrainingData
    {
        public int Drawn { get; private set; }
        public TrainerSettings Settings => run.Settings;
        public TrainingModel Model => run.Model;
        public Dclm.Training.Optimization.AdamW Optimizer => run.Optimizer;
        public ComputePool Pool => run.Pool;
        public Dclm.Training.Checkpointing.CheckpointStore Checkpoints => run.Checkpoints;
        public Dclm.Training.Checkpointing.TrainerState? Resumed => run.Resumed;
        public string[] SourceNames => run.SourceNames;
        public ITrainingData Data => this;
        public IEnumerable<TrainingBatch> ValidationBatches() => run.ValidationBatches();
        public void WriteWeights(string directory) => run.WriteWeights(directory);
        public string WriteFinal() => run.WriteFinal();
        public Dclm.Training.Data.DataCursor Cursor { get => run.Data.Cursor; set => run.Data.Cursor = value; }
        public string Stage => run.Data.Stage;
        public void Next(TrainingBatch next)
        {
            run.Data.Next(next);
            if (++Drawn == batch) stop.Cancel();
        }
    }

    [Fact]
    public void QLoraRunWritesAPeftAdapterMetricsAndThePlot()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory, GgmlType.Q8_0), data = Data(directory, 24);
        var options = Options(model, data, Path.Combine(directory, "run")) with { Method = FineTuneMethod.QLora, Targets = [LoraTarget.Query, LoraTarget.Value, LoraTarget.Down] };
        TrainingResult result;
        using (var run = FineTuneRun.Create(options)) result = new Trainer(run).Run();
        string adapter = Path.Combine(options.Output, "adapter");
        Assert.Equal(adapter, result.FinalModel);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(adapter, PeftAdapter.ConfigFile))))
        {
            var root = config.RootElement;
            Assert.Equal("LORA", root.GetProperty("peft_type").GetString());
            Assert.Equal(model, root.GetProperty("base_model_name_or_path").GetString());
            Assert.Equal(["in_proj", "w3"], root.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()!).ToArray());
            // q and v share in_proj: one adapter of rank 2·4 there, with α scaled to keep α / r.
            Assert.Equal(8, root.GetProperty("rank_pattern").GetProperty("in_proj").GetInt32());
            Assert.Equal(16, root.GetProperty("alpha_pattern").GetProperty("in_proj").GetDouble());
        }
        using (var weights = Dclm.Formats.Safetensors.SafetensorsFile.Open(Path.Combine(adapter, PeftAdapter.WeightsFile)))
        {
            Assert.Equal(8, weights.Tensors.Count);
            Assert.Equal([8L, 64], weights.Tensors["base_model.model.model.layers.1.attention.in_proj.lora_A.weight"].Shape);
            Assert.Equal([192L, 8], weights.Tensors["base_model.model.model.layers.1.attention.in_proj.lora_B.weight"].Shape);
            Assert.Equal([64L, 4], weights.Tensors["base_model.model.model.layers.0.feed_forward.w3.lora_B.weight"].Shape);
        }
        Assert.True(File.Exists(Path.Combine(options.Output, "loss.png")));
        var metrics = File.ReadAllLines(Path.Combine(options.Output, "metrics.jsonl"));
        Assert.Equal(11, metrics.Length);
        Assert.Contains("\"validation_loss\"", metrics[0]);
        Assert.True(result.Losses[^1] < result.Losses[0], $"loss went from {result.Losses[0]} to {result.Losses[^1]}");
    }

    /// <summary>
    /// --method full trains every weight of the f32 base: the loss falls, every tensor moves, and OUTPUT/final loads in the
    /// inference model with the logits of the training graph's forward.
    /// </summary>
    [Fact]
    public void FullFineTuningTrainsEveryWeightAndWritesAModelThatLoads()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory), data = Data(directory, 24);
        var options = Options(model, data, Path.Combine(directory, "full")) with { Method = FineTuneMethod.Full, Steps = 6, LearningRate = 1e-3 };
        int[] tokens = [3, 141, 59, 26, 535, 89, 79, 323];
        using var run = FineTuneRun.Create(options);
        Assert.Null(run.Adapters);
        var c = run.Model.Config;
        Assert.Equal(run.Parameters!.Count, run.Model.TrainableCount);
        Assert.Equal(run.Parameters.Tensors.Count, run.Model.Parameters.Count);
        var before = run.Model.Parameters.Select(p => (float[])p.Values.Clone()).ToArray();
        var result = new Trainer(run).Run();
        Assert.Equal(Path.Combine(options.Output, "final"), result.FinalModel);
        Assert.True(result.Losses[^1] < result.Losses[0], $"loss went from {result.Losses[0]} to {result.Losses[^1]}");
        for (int i = 0; i < before.Length; i++)
            Assert.False(before[i].AsSpan().SequenceEqual(run.Model.Parameters[i].Values), $"{run.Model.Parameters[i].Name} did not change");

        var expected = new float[tokens.Length * c.VocabularySize];
        run.Model.Logits(tokens, expected);
        using var loaded = ModelLoader.Load(result.FinalModel!, new ComputePool(1));
        var actual = new float[expected.Length];
        loaded.Model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), loaded.Model.CreateCache(), actual);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"logit {i}: {actual[i]} vs the training forward's {expected[i]}");
    }

    [Fact]
    public void TheMethodMustFitTheBasesStoredType()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string f32 = TinyBase(directory), q4 = TinyBase(directory, GgmlType.Q4_0), data = Data(directory, 12);
        var lora = Assert.Throws<ArgumentException>(() => FineTuneRun.Create(Options(q4, data, Path.Combine(directory, "a"))));
        Assert.Contains("use --method qlora", lora.Message);
        var qlora = Assert.Throws<ArgumentException>(() => FineTuneRun.Create(Options(f32, data, Path.Combine(directory, "b")) with { Method = FineTuneMethod.QLora }));
        Assert.Contains("use --method lora", qlora.Message);
        var length = Assert.Throws<ArgumentException>(() => FineTuneRun.Create(Options(f32, data, Path.Combine(directory, "c")) with { SequenceLength = 4096 }));
        Assert.Contains("--seq-len 4096 is longer than the model's context of 128", length.Message);
    }

    /// <summary>
    /// The walk-through of docs/finetuning.md on the built-in default model: a LoRA run on 40 support questions answers
    /// at least 90% of them exactly with greedy decoding (through the inference model with the adapter on its projections), and the
    /// loss on the held-out paraphrases falls.
    /// </summary>
    [Fact]
    public void LoraOnTheDefaultModelLearnsItsTrainingAnswers()
    {
        string? model = DefaultModel();
        Assert.NotNull(model);
        string directory = TrainingFixtures.TemporaryDirectory();
        var options = new FineTuneOptions
        {
            Model = model, Data = Fixture("finetuning", "support-train.jsonl"), ValidationData = Fixture("finetuning", "support-validation.jsonl"),
            Output = Path.Combine(directory, "support"), SequenceLength = 128, BatchSize = 2, GradientAccumulation = 1, Steps = 160,
            LearningRate = 3e-3, Dropout = 0, EvalEvery = 80, CheckpointEvery = 0, Threads = 2,
        };
        TrainingResult result;
        using (var run = FineTuneRun.Create(options)) result = new Trainer(run).Run();
        var validation = result.ValidationLosses!;
        Assert.Equal(0, validation[0].Step);
        Assert.True(validation[^1].Loss < validation[0].Loss - 3, $"validation loss went from {validation[0].Loss} to {validation[^1].Loss}");

        // The adapter served through the inference model's projection seam, as dclm generate --lora runs it.
        using var engine = ModelLoader.Load(model, new ComputePool(2));
        var served = new AdapterSet(engine.Model);
        served.UseEverywhere(served.Add("support", PeftAdapter.Read(result.FinalModel!, engine.Config)));
        var tokenizer = engine.RequireTokenizer();
        int exact = 0, total = 0;
        var misses = new List<string>();
        foreach (string line in File.ReadLines(options.Data))
        {
            using var example = JsonDocument.Parse(line);
            string prompt = example.RootElement.GetProperty("prompt").GetString()!, completion = example.RootElement.GetProperty("completion").GetString()!;
            string answer = tokenizer.Decode(Greedy(engine.Model, tokenizer.Encode(prompt), tokenizer.EndOfSequenceId!.Value, 24));
            total++;
            if (answer == completion) exact++;
            else misses.Add($"{prompt} -> '{answer}'");
        }
        Assert.True(exact >= 0.9 * total, $"{exact} of {total} exact; missed: {string.Join(" | ", misses)}");
    }

    /// <summary>Greedy continuation through the engine's KV cache, up to the end of sequence.</summary>
    private static int[] Greedy(DecoderModel model, int[] prompt, int endOfSequence, int maxTokens)
    {
        var cache = model.CreateCache();
        var logits = new float[model.Config.VocabularySize];
        var output = new List<int>();
        model.Forward(ForwardBatch.Sequence(prompt, 0), cache, logits);
        for (int position = prompt.Length; output.Count < maxTokens; position++)
        {
            int next = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[next]) next = i;
            if (next == endOfSequence) break;
            output.Add(next);
            model.Forward(ForwardBatch.Sequence([next], position), cache, logits);
        }
        return [.. output];
    }

    private static string? DefaultModel()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "models", "default", "model.gguf");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private sealed class Immediate(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
