using System.Text.Json;
using Dclm.Checkpoints.Adapters;
using Dclm.Models;
using Dclm.Training.Alignment;
using Dclm.Training.FineTuning;
using Xunit.Abstractions;

namespace Dclm.Training.Tests.Alignment;

/// <summary>Whole reward-model runs: the learnable-rule acceptance test on the built-in default model, exact resume, refusals.</summary>
public class RewardRunTests(ITestOutputHelper output)
{
    /// <summary>docs/alignment/NAME, found above the test directory.</summary>
    private static string DocsData(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "docs", "alignment", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"docs/alignment/{name} not found above the test directory");
    }

    /// <summary>
    /// The acceptance test, shortened from the walk-through in docs/alignment.md: pairs whose chosen side is the rejected
    /// side's words closed by a full stop, held-out pairs with other subjects and other words; after training, the
    /// reward model loaded back from its files (as dclm score loads it) ranks at least 90% of the held-out pairs right.
    /// </summary>
    [Fact]
    public void RewardModelLearnsThatAnswersEndWithAFullStop()
    {
        string model = DpoRunTests.DefaultModel(), directory = TrainingFixtures.TemporaryDirectory();
        var options = new FineTuneOptions
        {
            Model = model, Data = DocsData("reward-pairs.jsonl"), ValidationData = DocsData("reward-held-out.jsonl"), Output = Path.Combine(directory, "rm"),
            Rank = 8, Alpha = 16, SequenceLength = 32, BatchSize = 4, GradientAccumulation = 1, Steps = 20, LearningRate = 2e-3, Threads = 2,
            EvalEvery = 0, CheckpointEvery = 0,
        };
        TrainingResult result;
        using (var run = RewardRun.Create(options))
            result = new PreferenceTrainer(run).Run(new Immediate(p => output.WriteLine($"step {p.Step} loss {p.Loss:F4} {p.Detail}")));
        Assert.Equal(options.Output, result.FinalModel);
        Assert.True(PeftAdapter.Exists(Path.Combine(options.Output, "adapter")));

        using var reward = RewardModel.Load(options.Output, model, 2);
        var held = reward.ReadPairs(options.ValidationData!);
        var terms = reward.Score(held);
        double accuracy = (double)terms.Count(t => t.Margin > 0) / terms.Length;
        output.WriteLine($"held-out accuracy {accuracy:P1} over {terms.Length} pairs");
        Assert.True(accuracy >= 0.9, $"held-out accuracy {accuracy:P1}");
        // The run's own last evaluation and the reloaded model agree: the files hold what trained.
        var last = JsonDocument.Parse(File.ReadAllLines(Path.Combine(options.Output, "metrics.jsonl"))[^1]).RootElement;
        Assert.Equal(last.GetProperty("validation_reward_accuracy").GetDouble(), accuracy, 6);
    }

    private static string TinyBase(string directory)
    {
        var config = ModelConfig.OpenLm(64, 2, 2, 50432, 128) with { HiddenDim = 256 };
        return Dclm.TestSupport.TinyNeoXModels.Write(directory, config, 3, 0.2f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
    }

    [Fact]
    public void ResumeReproducesTheUninterruptedRunExactlyHeadIncluded()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string model = TinyBase(directory), data = Path.Combine(directory, "prefs.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 12).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"Question {i}: what is {i} plus {i}?\nAnswer:", chosen = $" {2 * i}.", rejected = $" {2 * i + 1}" })));
        var baseline = new FineTuneOptions
        {
            Model = model, Data = data, Output = Path.Combine(directory, "uninterrupted"), Rank = 4, Alpha = 8, SequenceLength = 32,
            BatchSize = 2, GradientAccumulation = 2, Steps = 6, LearningRate = 1e-2, Threads = 2, EvalEvery = 3, CheckpointEvery = 0, ValidationSplit = 0.2,
        };
        List<double> expected;
        using (var run = RewardRun.Create(baseline)) expected = new PreferenceTrainer(run).Run().Losses.ToList();

        var interrupted = baseline with { Output = Path.Combine(directory, "interrupted") };
        using var stop = new CancellationTokenSource();
        List<double> first;
        using (var run = RewardRun.Create(interrupted))
        {
            var result = new PreferenceTrainer(run).Run(new Immediate(p => { if (p.Step == 4) stop.Cancel(); }), stop.Token);
            Assert.True(result.Interrupted);
            first = result.Losses.ToList();
        }
        Assert.Throws<ArgumentException>(() => RewardRun.Create(interrupted));
        Assert.Contains("--lora-rank", Assert.Throws<ArgumentException>(() => RewardRun.Create(interrupted with { Rank = 2, Resume = true })).Message);
        List<double> second;
        using (var run = RewardRun.Create(interrupted with { Resume = true }))
        {
            Assert.Equal(4, run.Resumed?.Step);
            second = new PreferenceTrainer(run).Run().Losses.ToList();
        }
        Assert.Equal(expected, first.Concat(second).ToList());
        foreach (string file in new[] { Path.Combine("adapter", PeftAdapter.WeightsFile), RewardHead.FileName })
            Assert.Equal(File.ReadAllBytes(Path.Combine(baseline.Output, file)), File.ReadAllBytes(Path.Combine(interrupted.Output, file)));
    }

    [Fact]
    public void BadSettingsAndFilesAreRefusedByName()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var options = new FineTuneOptions { Model = "m.gguf", Data = "d.jsonl", Output = directory, Method = FineTuneMethod.Full };
        Assert.Contains("--method lora or qlora", Assert.Throws<ArgumentException>(() => RewardRun.Create(options)).Message);
        Assert.Contains(RewardHead.FileName, Assert.Throws<FileNotFoundException>(() => RewardHead.Read(directory, 64)).Message);
        var head = RewardHead.Create(32, 1);
        head.Write(directory);
        Assert.Contains("(1, 64)", Assert.Throws<InvalidDataException>(() => RewardHead.Read(directory, 64)).Message);
        Assert.Equal(head.Weight.Values, RewardHead.Read(directory, 32).Weight.Values);
    }

    private sealed class Immediate(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
