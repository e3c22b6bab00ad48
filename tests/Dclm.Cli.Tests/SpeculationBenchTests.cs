using System.Text.Json;
using Dclm.Benchmarks;
using Dclm.Checkpoints;
using Dclm.Tensors;

namespace Dclm.Cli.Tests;

/// <summary>
/// Speculative verification steps of up to fifteen tokens on Q4_0 and Q8_0 weights give greedy output identical to plain
/// decoding (the few-token kernels give each token the bits it gets alone), and `dclm bench --lookup-ngram` reports it.
/// </summary>
public sealed class SpeculationBenchTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-spec-bench-").FullName;

    /// <summary>A Llama-shaped model wide enough for full groups of eight blocks (256 columns), small enough for a test.</summary>
    private static readonly BenchShape Small = new("spec-test", false, 256, 2, 4, 2, 512, 640);

    [Theory]
    [InlineData(GgmlType.Q4_0, 14)]
    [InlineData(GgmlType.Q8_0, 14)]
    [InlineData(GgmlType.Q4_0, 3)]
    public void LookupDecodingOfQuantizedWeightsGivesThePlainGreedyOutput(GgmlType type, int draftMax)
    {
        string path = SyntheticGguf.Ensure(_directory, Small, type);
        using var model = ModelLoader.Load(path);
        int[] prompt = SpeculationBench.RepetitivePrompt(160, model.Config.VocabularySize);
        var result = SpeculationBench.Run(model.Model, prompt, 64, ngramSize: 3, draftMax, repetitions: 1, new Progress<string>(), CancellationToken.None);
        Assert.True(result.Identical, $"{type}, draft-max {draftMax}: speculative output differs from plain decoding");
        Assert.True(result.Statistics.Drafted > 0, "nothing was drafted");
        Assert.Equal(64, result.Statistics.Emitted);
        Assert.InRange(result.Statistics.AcceptanceRate, 0, 1);
        Assert.InRange(result.Statistics.TokensPerStep, 1, draftMax + 1);
    }

    [Fact]
    public void BenchReportsSpeculativeSpeedAndAcceptance()
    {
        string model = TinyNeoXModel.Create(_directory);
        string json = Path.Combine(_directory, "bench.json");
        var result = DclmProcess.Run("bench", "--model", model, "--threads", "1", "--prompt", "64", "--gen", "24", "--repetitions", "1",
            "--lookup-ngram", "3", "--draft-max", "6", "--json", json);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("speculation (prompt lookup n=3, draft-max 6", result.Output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var speculation = document.RootElement.GetProperty("speculation");
        Assert.True(speculation.GetProperty("identical_output").GetBoolean());
        Assert.Equal(6, speculation.GetProperty("draft_max").GetInt32());
        Assert.InRange(speculation.GetProperty("acceptance_rate").GetDouble(), 0, 1);
        Assert.InRange(speculation.GetProperty("tokens_per_step").GetDouble(), 1, 7);
        Assert.True(speculation.GetProperty("plain_tg_tps").GetDouble() > 0);
        Assert.True(speculation.GetProperty("speculative_tg_tps").GetDouble() > 0);
        Assert.True(speculation.GetProperty("plain_tg_cpu_ms_per_token").GetDouble() > 0);
        Assert.True(speculation.GetProperty("speculative_tg_cpu_ms_per_token").GetDouble() > 0);
        // The serving engine's run of the same test: its output equals plain decoding's too.
        var engine = document.RootElement.GetProperty("engine_speculation");
        Assert.True(engine.GetProperty("identical_output").GetBoolean());
        Assert.Equal(6, engine.GetProperty("draft_max").GetInt32());
        Assert.InRange(engine.GetProperty("tokens_per_step").GetDouble(), 1, 7);
        Assert.Contains("serving engine speculation (prompt lookup n=3, draft-max 6", result.Output);
    }

    [Fact]
    public void BenchMeasuresLookupOnTheTokensOfAPromptFile()
    {
        string model = TinyNeoXModel.Create(_directory);
        string prompt = Path.Combine(_directory, "prompt.txt");
        File.WriteAllText(prompt, "def add(a, b):\n    return a + b\n\n# the same function again:\ndef add(a, b):\n    return");
        string json = Path.Combine(_directory, "bench.json");
        var result = DclmProcess.Run("bench", "--model", model, "--threads", "1", "--prompt", "16", "--gen", "24", "--repetitions", "1",
            "--lookup-ngram", "2", "--lookup-prompt", prompt, "--json", json);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("--lookup-prompt prompt of", result.Output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        foreach (string test in new[] { "speculation", "engine_speculation" })
        {
            var speculation = document.RootElement.GetProperty(test);
            Assert.True(speculation.GetProperty("identical_output").GetBoolean(), test);
            Assert.InRange(speculation.GetProperty("prompt_tokens").GetInt32(), 20, 40);
        }
    }

    [Fact]
    public void ABadDraftMaxIsOneLineNamingTheOption()
    {
        var result = DclmProcess.Run("bench", "--model", "missing.gguf", "--lookup-ngram", "3", "--draft-max", "0");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--draft-max 0", result.Error);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
