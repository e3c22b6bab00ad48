using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Dclm.Training.Checkpointing;
using Dclm.Training.Configuration;
using Dclm.Training.Data;
using Dclm.Training.Reporting;
using Xunit.Abstractions;

namespace Dclm.Training.Tests;

/// <summary>
/// Continual pretraining: --init-from carries AdamW's state, replay mixes the old domain back in, and the forgetting
/// report shows the old domain's perplexity rising less with replay. Domain A is Moby Dick's prose, domain B HumanEval's
/// Python: two real texts whose byte statistics differ sharply (indentation, brackets, underscores against punctuation and capitals).
/// </summary>
public class ContinualPretrainingTests(ITestOutputHelper output)
{
    private const int CorpusBytes = 24_000;

    [Fact]
    public void ReplayKeepsTheOldDomainsPerplexityFromRisingAsMuch()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string prose = WriteBytes(directory, "prose.bin", ProseText()), code = WriteBytes(directory, "code.bin", CodeText());
        var first = Options(prose, Path.Combine(directory, "a")) with { Steps = 150 };
        using (var run = TrainingRun.Create(first)) new Trainer(run).Run();

        ForgettingReport Continue(string name, double fraction)
        {
            var options = Options(code, Path.Combine(directory, name)) with
            {
                InitFrom = first.Output, ReplayData = prose, ReplayFraction = fraction, Steps = 150, Warmup = 5,
            };
            using var run = TrainingRun.Create(options);
            var report = ForgettingReport.Begin(run);
            new Trainer(run).Run();
            return report.Complete(run);
        }
        var plain = Continue("b", 0);
        var replayed = Continue("b-replay", 0.25);

        output.WriteLine(plain.Format());
        output.WriteLine(replayed.Format());
        // Both start from the same weights, so the "before" sides agree exactly.
        Assert.Equal(plain.Before, replayed.Before);
        double forgot = plain.PerplexityRatio(ReplayMix.SourceName)!.Value, forgotWithReplay = replayed.PerplexityRatio(ReplayMix.SourceName)!.Value;
        Assert.True(forgot > 1.2, $"without replay the prose perplexity should rise clearly; ratio {forgot:F3}\n{plain.Format()}");
        Assert.True(forgotWithReplay < forgot, $"replay should limit forgetting: ratio {forgotWithReplay:F3} with, {forgot:F3} without\n{plain.Format()}\n{replayed.Format()}");
        Assert.True(replayed.PerplexityRatio("code") < 0.8 && plain.PerplexityRatio("code") < 0.8, $"the new domain is learned either way\n{plain.Format()}\n{replayed.Format()}");

        // The report is written with the run and reads back the same.
        var written = ForgettingReport.Read(Path.Combine(directory, "b-replay", ForgettingReport.FileName));
        Assert.Equal(replayed.After, written.After);
        Assert.Contains("replay", replayed.Format());
    }

    [Fact]
    public void InitFromLoadsTheOptimizerStateWhenTheCheckpointHasIt()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        var first = TrainingFixtures.Tiny(TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text, repeat: 3), Path.Combine(directory, "a")) with { Steps = 6 };
        float[][] moments, squares;
        using (var run = TrainingRun.Create(first))
        {
            new Trainer(run).Run();
            (moments, squares) = (run.Optimizer.FirstMoment.Select(m => m.ToArray()).ToArray(), run.Optimizer.SecondMoment.Select(m => m.ToArray()).ToArray());
            Assert.Contains(moments, m => m.Any(x => x != 0));
        }
        // The run directory means its newest checkpoint, which carries optimizer.safetensors.
        var notes = new List<string>();
        using (var run = TrainingRun.Create(first with { Output = Path.Combine(directory, "b"), InitFrom = first.Output }, notes.Add))
        {
            Assert.Equal(6, run.Optimizer.Steps);
            Assert.Null(run.Resumed); // a new run: its own schedule, step 0
            for (int i = 0; i < moments.Length; i++)
            {
                Assert.Equal(moments[i], run.Optimizer.FirstMoment[i]);
                Assert.Equal(squares[i], run.Optimizer.SecondMoment[i]);
            }
            Assert.Contains(notes, n => n.Contains("AdamW state (step 6)", StringComparison.Ordinal));
            Assert.Equal(6, new Trainer(run).Run().Steps);
            Assert.Equal(12, run.Optimizer.Steps);
        }
        // final/ holds weights only: AdamW starts afresh, and the run says so.
        notes.Clear();
        using (var run = TrainingRun.Create(first with { Output = Path.Combine(directory, "c"), InitFrom = Path.Combine(first.Output, "final") }, notes.Add))
        {
            Assert.Equal(0, run.Optimizer.Steps);
            Assert.All(run.Optimizer.FirstMoment, m => Assert.All(m, x => Assert.Equal(0f, x)));
            Assert.Contains(notes, n => n.Contains("AdamW starts afresh", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ReplayFractionIsTheShareOfSamplesDrawnFromTheOldData()
    {
        var options = new TrainingOptions
        {
            Sources = new Dictionary<string, string> { ["web"] = "w", ["code"] = "c" }, ReplayData = "old", ReplayFraction = 0.2,
            Stages = [new MixingStage("general", 1000, new Dictionary<string, double> { ["web"] = 3, ["code"] = 1 }),
                      new MixingStage("explicit", 0, new Dictionary<string, double> { ["code"] = 1, ["replay"] = 1 })],
        };
        var (sources, stages) = ReplayMix.Apply(options);
        Assert.Equal("old", sources[ReplayMix.SourceName]);
        Assert.Equal(0.2, stages[0].Weights["replay"], 12);
        Assert.Equal(0.6, stages[0].Weights["web"], 12);
        Assert.Equal(0.2, stages[0].Weights["code"], 12);
        Assert.Same(options.Stages[1], stages[1]); // a stage that weights replay itself is kept as written

        // Drawn through the mixer, the replay share of 4,000 samples is 0.2 within sampling noise (σ ≈ 0.0063).
        var windows = new[] { "code", "replay", "web" }.Select(n => new TokenWindows(n, Enumerable.Range(0, 200).ToArray(), 9)).ToList();
        var mixer = new DataMixer(windows, ReplayMix.Apply(options with { Stages = [] }).Stages, seed: 3);
        mixer.Next(4000, new int[4000 * 9]);
        double share = mixer.Cursor.SourceSamples[1] / 4000.0;
        Assert.InRange(share, 0.175, 0.225);

        Assert.Throws<ArgumentException>(() => (options with { ReplayData = null }).Validate());
        Assert.Throws<ArgumentException>(() => (options with { ReplayFraction = 1 }).Validate());
    }

    private static TrainingOptions Options(string data, string output) => TrainingFixtures.Tiny(data, output) with
    {
        Sources = new Dictionary<string, string> { [Path.GetFileNameWithoutExtension(data)] = data },
        LearningRate = 1e-2, MinLearningRate = 1e-3, Warmup = 10, ValidationFraction = 0.05, EvalBatches = 8, WeightDecay = 0,
    };

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "continual", name);

    private static string ProseText()
    {
        var text = new StringBuilder();
        foreach (var line in File.ReadLines(Fixture("moby_dick.jsonl")))
        {
            using var row = JsonDocument.Parse(line);
            text.Append(row.RootElement.GetProperty("context").GetString()).Append(row.RootElement.GetProperty("continuation").GetString()).Append("\n\n");
            if (text.Length > CorpusBytes) break;
        }
        return text.ToString();
    }

    private static string CodeText()
    {
        var text = new StringBuilder();
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Fixture("HumanEval.jsonl.gz")), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line && text.Length < CorpusBytes)
        {
            using var row = JsonDocument.Parse(line);
            text.Append(row.RootElement.GetProperty("prompt").GetString()).Append(row.RootElement.GetProperty("canonical_solution").GetString()).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The text's UTF-8 bytes as uint32 tokens (vocabulary 256), capped near <see cref="CorpusBytes"/>.</summary>
    private static string WriteBytes(string directory, string name, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var data = new byte[bytes.Length * 4];
        for (int i = 0; i < bytes.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(i * 4), bytes[i]);
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, data);
        return path;
    }
}
