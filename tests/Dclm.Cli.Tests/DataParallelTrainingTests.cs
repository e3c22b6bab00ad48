using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Dclm.Formats.Safetensors;

namespace Dclm.Cli.Tests;

/// <summary>
/// `mpirun -np 2 dclm train` against one process with the same global batch: the same loss curve (1e-5 relative),
/// the same final weights (1e-5), metrics that record the world size, resumption with another number of ranks,
/// and a clear refusal of a batch the ranks cannot share. Open MPI comes from scripts/setup.sh.
/// </summary>
public sealed class DataParallelTrainingTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dclm-dp-" + Guid.NewGuid().ToString("N"));

    public DataParallelTrainingTests() => Directory.CreateDirectory(_directory);
    public void Dispose() => Directory.Delete(_directory, true);

    [Fact]
    public void TwoRanksTrainAsOneProcessWithTheGlobalBatchWithOrWithoutZeroAndResumeOnOne()
    {
        var single = DclmProcess.Run(Train("single"));
        Assert.True(single.ExitCode == 0, single.Error);
        var expected = Metrics("single");
        Assert.All(expected, m => Assert.Equal(1, m.WorldSize));

        var parallel = DclmProcess.Mpirun(2, Train("parallel"));
        Assert.True(parallel.ExitCode == 0, parallel.Error);
        Assert.Contains("data parallel: 2 ranks, 2 of the 4 sequences", parallel.Error);
        Assert.Single(parallel.Output.Split('\n'), l => l.StartsWith("final model:")); // rank 0 alone reports
        var actual = Metrics("parallel");
        Assert.All(actual, m => Assert.Equal(2, m.WorldSize));
        AssertSameCurve(expected, actual);
        AssertSameWeights(Path.Combine(_directory, "single", "final"), Path.Combine(_directory, "parallel", "final"));

        // ZeRO-1: each rank holds half of AdamW's moments, and the run is the same.
        var sharded = DclmProcess.Mpirun(2, Train("zero", "--zero", "1", "--checkpoint-every", "2"));
        Assert.True(sharded.ExitCode == 0, sharded.Error);
        long whole = OptimizerBytes(single.Error), half = OptimizerBytes(sharded.Error);
        Assert.Equal(OptimizerBytes(parallel.Error), whole);
        Assert.InRange(half, whole / 2, whole / 2 + 8); // the first rank's share of an odd count is one value (8 bytes of m and v) larger
        AssertSameCurve(expected, Metrics("zero"));
        AssertSameWeights(Path.Combine(_directory, "single", "final"), Path.Combine(_directory, "zero", "final"));

        // Resume the sharded run's step-2 checkpoint (its moments gathered on rank 0) in one process: the rest is the one-process run's.
        Directory.Delete(Path.Combine(_directory, "zero", "checkpoints", "step-00000004"), true);
        Directory.Delete(Path.Combine(_directory, "zero", "final"), true);
        var resumed = DclmProcess.Run(Train("zero", "--checkpoint-every", "2"));
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("resuming from", resumed.Error);
        var mixed = Metrics("zero");
        Assert.Equal([2, 2, 2, 1, 1], mixed.Select(m => m.WorldSize));
        AssertSameCurve(expected, mixed);
        AssertSameWeights(Path.Combine(_directory, "single", "final"), Path.Combine(_directory, "zero", "final"));
    }

    private static long OptimizerBytes(string log)
    {
        var match = System.Text.RegularExpressions.Regex.Match(log, @"optimizer state: ([\d,]+) bytes on rank 0");
        Assert.True(match.Success, log);
        return long.Parse(match.Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void AGlobalBatchTheRanksCannotShareIsRefused()
    {
        var result = DclmProcess.Mpirun(2, Train("odd", batch: 3));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--batch-size 3 is the global batch and must divide by the 2 ranks", result.Error);
        Assert.False(File.Exists(Path.Combine(_directory, "odd", "metrics.jsonl")));
    }

    /// <summary>
    /// `mpirun -np 2 dclm align`: DPO with the global batch of a one-process run (2 pairs per micro-batch, one per rank)
    /// gives the same loss curve and reward statistics to 1e-5 relative, and the same adapter to 1e-5.
    /// </summary>
    [Fact]
    public void TwoRanksAlignAsOneProcessWithTheGlobalBatch()
    {
        string model = TinyNeoXModel.Create(Path.Combine(_directory, "model"));
        string pairs = Path.Combine(_directory, "pairs.jsonl");
        File.WriteAllLines(pairs, Enumerable.Range(0, 12).Select(i => System.Text.Json.JsonSerializer.Serialize(new
        {
            prompt = $"Question {i}: what did the committee decide on day {i}?",
            chosen = $" It approved budget line {i * 7 % 113}.",
            rejected = $" Nothing was decided about line {i * 5 % 37} and",
        })));
        string[] Align(string output) =>
        [
            "align", "--model", model, "--data", pairs, "--output", Path.Combine(_directory, output), "--steps", "3", "--batch-size", "2",
            "--grad-accum", "2", "--seq-len", "48", "--lora-rank", "4", "--lr", "1e-3", "--validation-split", "0.25", "--eval-every", "2",
            "--threads", "1", "--no-progress",
        ];
        var single = DclmProcess.Run(Align("align-single"));
        Assert.True(single.ExitCode == 0, single.Error);
        var parallel = DclmProcess.Mpirun(2, Align("align-parallel"));
        Assert.True(parallel.ExitCode == 0, parallel.Error);
        Assert.Contains("data parallel: 2 ranks, 1 of the 2 sequences", parallel.Error);
        Assert.Single(parallel.Output.Split('\n'), l => l.StartsWith("adapter:"));
        var expected = Metrics("align-single");
        var actual = Metrics("align-parallel");
        Assert.All(expected, m => Assert.Equal(1, m.WorldSize));
        Assert.All(actual, m => Assert.Equal(2, m.WorldSize));
        AssertSameCurve(expected, actual);
        var e = File.ReadLines(Path.Combine(_directory, "align-single", "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var a = File.ReadLines(Path.Combine(_directory, "align-parallel", "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        foreach (var (x, y) in e.Zip(a))
            foreach (string name in (string[])["reward_margin", "reward_accuracy", "validation_reward_margin"])
                if (x.TryGetProperty(name, out var value))
                    Assert.True(Math.Abs(y.GetProperty(name).GetDouble() - value.GetDouble()) <= 1e-5 * Math.Abs(value.GetDouble()) + 1e-12,
                        $"{name}: {y.GetProperty(name).GetDouble():R} against one process's {value.GetDouble():R}");
        AssertSameWeights(Path.Combine(_directory, "align-single", "adapter"), Path.Combine(_directory, "align-parallel", "adapter"), "adapter_model.safetensors");
    }

    private string[] Train(string output, params string[] extra) => Train(output, 4, extra);

    private string[] Train(string output, int batch, params string[] extra) =>
    [
        "train", "--data", Corpus(), "--tokenizer", DclmProcess.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"), "--output", Path.Combine(_directory, output),
        "--dim", "32", "--layers", "1", "--heads", "2", "--seq-len", "32", "--batch-size", batch.ToString(), "--steps", "4", "--warmup", "1",
        "--eval-every", "2", "--threads", "1", "--no-progress", .. extra,
    ];

    private string Corpus()
    {
        string path = Path.Combine(_directory, "corpus.txt");
        if (!File.Exists(path))
            File.WriteAllLines(path, Enumerable.Range(0, 200).Select(i => $"Paragraph {i}: the committee met again on day {i % 31} to discuss budget line {i * 7 % 113}."));
        return path;
    }

    private sealed record Line(int Step, double? Loss, double? ValidationLoss, int WorldSize);

    private List<Line> Metrics(string run) =>
        File.ReadLines(Path.Combine(_directory, run, "metrics.jsonl")).Select(l =>
        {
            var json = JsonDocument.Parse(l).RootElement;
            double? Number(string name) => json.TryGetProperty(name, out var v) ? v.GetDouble() : null;
            return new Line(json.GetProperty("step").GetInt32(), Number("loss"), Number("validation_loss"), json.GetProperty("world_size").GetInt32());
        }).ToList();

    private static void AssertSameCurve(List<Line> expected, List<Line> actual)
    {
        Assert.Equal(expected.Select(m => m.Step), actual.Select(m => m.Step));
        foreach (var (e, a) in expected.Zip(actual))
        {
            AssertClose(e.Loss, a.Loss, $"loss at step {e.Step}");
            AssertClose(e.ValidationLoss, a.ValidationLoss, $"validation loss at step {e.Step}");
        }
    }

    private static void AssertClose(double? expected, double? actual, string what)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is double e && actual is double a)
            Assert.True(Math.Abs(a - e) <= 1e-5 * Math.Abs(e), $"{what}: {a:R} against one process's {e:R}");
    }

    private static void AssertSameWeights(string expectedDirectory, string actualDirectory, string file = "model.safetensors")
    {
        using var expected = SafetensorsFile.Open(Path.Combine(expectedDirectory, file));
        using var actual = SafetensorsFile.Open(Path.Combine(actualDirectory, file));
        Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
        double worst = 0;
        foreach (var (name, entry) in expected.Tensors)
        {
            var e = MemoryMarshal.Cast<byte, float>(entry.Bytes);
            var a = MemoryMarshal.Cast<byte, float>(actual.Tensors[name].Bytes);
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]));
        }
        Assert.True(worst <= 1e-5, $"final weights differ by up to {worst:E2}");
    }
}
