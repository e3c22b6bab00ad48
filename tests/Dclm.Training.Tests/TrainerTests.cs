using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training.Checkpointing;
using Dclm.Training.Reporting;

namespace Dclm.Training.Tests;

public class TrainerTests
{
    [Fact]
    public void TinyModelMemorisesAShortTextWithin300Steps()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var options = TrainingFixtures.Tiny(TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text), Path.Combine(directory, "run")) with
        {
            Steps = 300, LearningRate = 1e-2, MinLearningRate = 1e-3, Warmup = 20, WeightDecay = 0, LogEvery = 10,
        };
        using var run = TrainingRun.Create(options);
        var result = new Trainer(run).Run();
        Assert.True(result.Losses[0] > 4, $"the first loss {result.Losses[0]} should be near ln 256");
        Assert.True(result.Losses[^1] < 0.05, $"final loss {result.Losses[^1]} is not below 0.05");
        Assert.True(File.Exists(Path.Combine(options.Output, "loss.png")));
        var records = File.ReadLines(Path.Combine(options.Output, "metrics.jsonl")).Select(MetricsLog.TryRead).ToList();
        Assert.Equal(30, records.Count);
        Assert.All(records, r => Assert.NotNull(r?.LearningRate));
    }

    [Fact]
    public void ResumeReproducesTheUninterruptedLossesExactly()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string data = TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text, repeat: 3);
        var baseline = TrainingFixtures.Tiny(data, Path.Combine(directory, "uninterrupted")) with { GradientAccumulation = 2, ValidationFraction = 0.1, EvalEvery = 5 };
        List<double> expected;
        using (var run = TrainingRun.Create(baseline)) expected = new Trainer(run).Run().Losses.ToList();

        var interrupted = baseline with { Output = Path.Combine(directory, "interrupted") };
        using var stop = new CancellationTokenSource();
        List<double> first;
        using (var run = TrainingRun.Create(interrupted))
        {
            var result = new Trainer(run).Run(new Immediate(p => { if (p.Step == 7) stop.Cancel(); }), stop.Token);
            Assert.True(result.Interrupted);
            first = result.Losses.ToList();
        }
        Assert.Equal(7, first.Count);
        // A partial directory from a crash must not disturb the resume.
        Directory.CreateDirectory(Path.Combine(interrupted.Output, "checkpoints", ".partial-step-00000008"));
        List<double> second;
        using (var run = TrainingRun.Create(interrupted))
        {
            Assert.Equal(7, run.Resumed?.Step);
            second = new Trainer(run).Run().Losses.ToList();
        }
        Assert.Equal(expected, first.Concat(second).ToList());
        Assert.Equal(File.ReadAllLines(Path.Combine(baseline.Output, "metrics.jsonl")).Length, File.ReadAllLines(Path.Combine(interrupted.Output, "metrics.jsonl")).Length);
    }

    [Fact]
    public void SavedCheckpointLoadsAndMatchesTheTrainingForward()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var options = TrainingFixtures.Tiny(TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text), Path.Combine(directory, "run")) with { Steps = 5 };
        using var run = TrainingRun.Create(options);
        var result = new Trainer(run).Run();
        int[] tokens = System.Text.Encoding.UTF8.GetBytes("it was the age of").Select(b => (int)b).ToArray();
        int v = run.Model.Config.VocabularySize;
        var expected = new float[tokens.Length * v];
        run.Model.Logits(tokens, expected);
        foreach (var path in new[] { result.LastCheckpoint!, result.FinalModel! })
        {
            using var loaded = ModelLoader.Load(path, new ComputePool(1));
            Assert.Equal(run.Model.Config with { }, loaded.Config with { });
            var cache = loaded.Model.CreateCache();
            var actual = new float[tokens.Length * v];
            loaded.Model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), cache, actual);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{path}: logit {i}: {actual[i]} vs training forward {expected[i]}");
        }
    }

    [Fact]
    public void KeepsOnlyTheNewestCheckpoints()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var options = TrainingFixtures.Tiny(TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text), Path.Combine(directory, "run")) with { Steps = 8, CheckpointEvery = 2, KeepCheckpoints = 2 };
        using var run = TrainingRun.Create(options);
        new Trainer(run).Run();
        var names = run.Checkpoints.List().Select(p => Path.GetFileName(p)!).ToArray();
        Assert.Equal(new[] { "step-00000006", "step-00000008" }, names);
        Assert.True(File.Exists(Path.Combine(run.Checkpoints.List()[^1], "optimizer.safetensors")));
    }

    private sealed class Immediate(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
