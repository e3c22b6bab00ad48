using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Training.Alignment;
using Dclm.Training.FineTuning;
using Xunit.Abstractions;

namespace Dclm.Training.Tests.Alignment;

/// <summary>Whole DPO runs on the built-in default model: the learnable-rule acceptance test, resume and refusals.</summary>
public class DpoRunTests(ITestOutputHelper output)
{
    private static readonly string[] Subjects = ["The President", "The whale", "Congress", "The captain", "Our country", "The ship", "The people", "The sea", "The government", "Ahab"];
    private static readonly string[] HeldSubjects = ["The Secretary", "The crew", "The nation", "Ishmael", "The Senate"];
    private static readonly string[] Verbs = ["said that", "has", "will", "was"];

    /// <summary>
    /// The learnable rule: a completion is a short sentence that ends with a full stop (and then stops). Each training
    /// prompt's pair is built from the base's own greedy continuation: its first k tokens closed by a full stop are
    /// preferred to the continuation running on for four more tokens without one.
    /// </summary>
    private static string Pairs(string directory, string model, string[] prompts)
    {
        using var engine = ModelLoader.Load(model, new ComputePool(2));
        var tokenizer = engine.RequireTokenizer();
        var lines = new List<string>();
        for (int i = 0; i < prompts.Length; i++)
        {
            var (tokens, _) = Greedy(engine.Model, tokenizer.Encode(prompts[i]), tokenizer.EndOfSequenceId!.Value, 12);
            int k = 3 + i % 4;
            string head = tokenizer.Decode(tokens[..k]), longer = tokenizer.Decode(tokens[..(k + 4)]);
            if (longer.Contains('.') || longer.Contains('\n')) continue;
            lines.Add(JsonSerializer.Serialize(new { prompt = prompts[i], chosen = head.TrimEnd(',', ';', ' ', '-') + ".", rejected = longer }));
        }
        string path = Path.Combine(directory, "pairs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string[] Prompts(string[] subjects) => subjects.SelectMany(s => Verbs.Select(v => $"{s} {v}")).ToArray();

    private static DpoOptions Options(string model, string data, string? validation, string output) => new()
    {
        Beta = 0.1,
        Training = new FineTuneOptions
        {
            Model = model, Data = data, ValidationData = validation, Output = output, Rank = 8, Alpha = 16, SequenceLength = 32, ValidationSplit = 0.2,
            BatchSize = 2, GradientAccumulation = 1, Steps = 30, LearningRate = 2e-3, Threads = 2, EvalEvery = 15, CheckpointEvery = 0,
        },
    };

    /// <summary>
    /// The acceptance test: before training, greedy answers to held-out prompts do not end with a full stop; after DPO
    /// on pairs that prefer one, at least 80% do, and the held-out implicit reward margin rises from zero.
    /// </summary>
    [Fact]
    public void DpoTeachesTheDefaultModelToEndItsAnswersWithAFullStop()
    {
        string model = DefaultModel();
        string directory = TrainingFixtures.TemporaryDirectory();
        string data = Pairs(directory, model, Prompts(Subjects));
        var heldPrompts = Prompts(HeldSubjects);
        var options = Options(model, data, null, Path.Combine(directory, "dpo"));
        double before = FollowRate(model, null, heldPrompts);
        TrainingResult result;
        using (var run = DpoRun.Create(options))
            result = new PreferenceTrainer(run).Run(new Immediate(p => output.WriteLine($"step {p.Step} loss {p.Loss:F4} {p.Detail}")));
        double after = FollowRate(model, result.FinalModel, heldPrompts);
        output.WriteLine($"held-out prompts ending with a full stop: {before:P0} before, {after:P0} after");

        var metrics = File.ReadAllLines(Path.Combine(options.Training.Output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        double initialMargin = metrics[0].GetProperty("validation_reward_margin").GetDouble();
        double finalMargin = metrics[^1].GetProperty("validation_reward_margin").GetDouble();
        Assert.Equal(0, initialMargin, 6);
        Assert.True(finalMargin > 1, $"held-out margin went from {initialMargin} to {finalMargin}");
        Assert.True(before < 0.2, $"{before:P0} of held-out answers already end with a full stop before training");
        Assert.True(after >= 0.8, $"only {after:P0} of held-out answers end with a full stop after DPO");
        Assert.True(File.Exists(Path.Combine(options.Training.Output, "alignment.png")));
    }

    /// <summary>Fraction of <paramref name="prompts"/> whose greedy answer (served with the adapter, as dclm generate --lora) is words ending with "." on a line of its own.</summary>
    private double FollowRate(string model, string? adapter, string[] prompts)
    {
        using var engine = ModelLoader.Load(model, new ComputePool(2));
        if (adapter is not null)
        {
            var served = new AdapterSet(engine.Model);
            served.UseEverywhere(served.Add("dpo", PeftAdapter.Read(adapter, engine.Config)));
        }
        var tokenizer = engine.RequireTokenizer();
        int follows = 0;
        foreach (string prompt in prompts)
        {
            var (answer, stopped) = Greedy(engine.Model, tokenizer.Encode(prompt), tokenizer.EndOfSequenceId!.Value, 16);
            // The answer is its line: generation stops at the end of sequence or a newline, as evaluation harnesses stop.
            string text = tokenizer.Decode(answer);
            int newline = text.IndexOf('\n');
            if (newline >= 0) (text, stopped) = (text[..newline], true);
            output.WriteLine($"{(adapter is null ? "before" : "after")}: {prompt.Replace("\n", " ")} -> '{text}'{(stopped ? "" : " (no end)")}");
            if (stopped && text.TrimEnd().EndsWith('.') && text.Any(char.IsLetter)) follows++;
        }
        return (double)follows / prompts.Length;
    }

    /// <summary>Greedy continuation through the engine's KV cache; whether it stopped at the end of sequence.</summary>
    private static (int[] Tokens, bool Stopped) Greedy(DecoderModel model, int[] prompt, int endOfSequence, int maxTokens)
    {
        var cache = model.CreateCache();
        var logits = new float[model.Config.VocabularySize];
        var tokens = new List<int>();
        model.Forward(ForwardBatch.Sequence(prompt, 0), cache, logits);
        for (int position = prompt.Length; tokens.Count < maxTokens; position++)
        {
            int next = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[next]) next = i;
            if (next == endOfSequence) return ([.. tokens], true);
            tokens.Add(next);
            model.Forward(ForwardBatch.Sequence([next], position), cache, logits);
        }
        return ([.. tokens], false);
    }

    internal static string DefaultModel()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "models", "default", "model.gguf");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("models/default/model.gguf not found above the test directory");
    }

    private sealed class Immediate(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

/// <summary>DPO runs on a tiny model: exact resume after an interruption, and refusals.</summary>
public class DpoResumeTests
{
    private static string TinyBase(string directory)
    {
        var config = ModelConfig.OpenLm(64, 2, 2, 50432, 128) with { HiddenDim = 256 };
        return Dclm.TestSupport.TinyNeoXModels.Write(directory, config, 3, 0.2f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
    }

    private static string Data(string directory)
    {
        string path = Path.Combine(directory, "prefs.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 12).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"Question {i}: what is {i} plus {i}?\nAnswer:", chosen = $" {2 * i}.", rejected = $" {2 * i + 1}" })));
        return path;
    }

    [Fact]
    public void ResumeReproducesTheUninterruptedRunExactly()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory), data = Data(directory);
        var baseline = new DpoOptions
        {
            Training = new FineTuneOptions
            {
                Model = model, Data = data, Output = Path.Combine(directory, "uninterrupted"), Rank = 4, Alpha = 8, SequenceLength = 32,
                BatchSize = 2, GradientAccumulation = 2, Steps = 6, LearningRate = 1e-2, Threads = 2, EvalEvery = 3, CheckpointEvery = 0, ValidationSplit = 0.2,
            },
        };
        List<double> expected;
        using (var run = DpoRun.Create(baseline)) expected = new PreferenceTrainer(run).Run().Losses.ToList();

        var interrupted = baseline with { Training = baseline.Training with { Output = Path.Combine(directory, "interrupted") } };
        using var stop = new CancellationTokenSource();
        List<double> first;
        using (var run = DpoRun.Create(interrupted))
        {
            var result = new PreferenceTrainer(run).Run(new Immediate(p => { if (p.Step == 4) stop.Cancel(); }), stop.Token);
            Assert.True(result.Interrupted);
            first = result.Losses.ToList();
        }
        Assert.Throws<ArgumentException>(() => DpoRun.Create(interrupted));
        var changed = Assert.Throws<ArgumentException>(() => DpoRun.Create(interrupted with { Beta = 0.3, Training = interrupted.Training with { Resume = true } }));
        Assert.Contains("--beta", changed.Message);
        List<double> second;
        using (var run = DpoRun.Create(interrupted with { Training = interrupted.Training with { Resume = true } }))
        {
            Assert.Equal(4, run.Resumed?.Step);
            second = new PreferenceTrainer(run).Run().Losses.ToList();
        }
        Assert.Equal(expected, first.Concat(second).ToList());
        Assert.Equal(File.ReadAllBytes(Path.Combine(baseline.Training.Output, "adapter", PeftAdapter.WeightsFile)),
            File.ReadAllBytes(Path.Combine(interrupted.Training.Output, "adapter", PeftAdapter.WeightsFile)));
        var metrics = File.ReadAllLines(Path.Combine(interrupted.Training.Output, "metrics.jsonl"));
        Assert.Equal(7, metrics.Length);
    }

    [Fact]
    public void BadSettingsAreRefusedNamingTheFlag()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var training = new FineTuneOptions { Model = "m.gguf", Data = "d.jsonl", Output = directory };
        Assert.Contains("--beta", Assert.Throws<ArgumentException>(() => new DpoOptions { Training = training, Beta = 0 }.Validate()).Message);
        Assert.Contains("--label-smoothing", Assert.Throws<ArgumentException>(() => new DpoOptions { Training = training, LabelSmoothing = 0.5 }.Validate()).Message);
        Assert.Contains("--method lora or qlora", Assert.Throws<ArgumentException>(() => new DpoOptions { Training = training with { Method = FineTuneMethod.Full } }.Validate()).Message);
    }

    private sealed class Immediate(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
