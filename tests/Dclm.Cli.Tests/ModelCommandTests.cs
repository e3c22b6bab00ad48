using System.Text.Json;

namespace Dclm.Cli.Tests;

/// <summary>The stable CLI forms of generate, logits, info and convert, end to end on the reference fixture.</summary>
public sealed class ModelCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-").FullName;
    private static readonly string Tiny = DclmProcess.Fixture("dclm-tiny");

    private static (int[] Prompt, int[] Greedy) Reference()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Tiny, "reference.json")));
        int[] Ids(string key) => json.RootElement.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (Ids("prompt_token_ids"), Ids("greedy_continuation_token_ids"));
    }

    [Fact]
    public void GreedyGeneratePrintsTheReferenceContinuationOnTheLastLine()
    {
        var (prompt, greedy) = Reference();
        var result = DclmProcess.Run("generate", "--model", Tiny, "--prompt-tokens", string.Join(' ', prompt),
            "--max-tokens", greedy.Length.ToString(), "--temperature", "0", "--print-token-ids");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Join(' ', greedy), result.LastLine);
    }

    [Theory]
    [InlineData("--lookup-ngram", "2")]
    [InlineData("--model-draft", "self")]
    public void SpeculativeGreedyGenerateStillPrintsTheReferenceContinuation(string flag, string value)
    {
        // The reference continuation comes from transformers; speculation must not change a token of it.
        var (prompt, greedy) = Reference();
        var result = DclmProcess.Run("generate", "--model", Tiny, "--prompt-tokens", string.Join(' ', prompt),
            "--max-tokens", greedy.Length.ToString(), "--temperature", "0", "--print-token-ids", flag, value == "self" ? Tiny : value, "--draft-max", "4");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Join(' ', greedy), result.LastLine);
        Assert.Contains("speculation: drafted", result.Error);
    }

    [Fact]
    public void SampledGenerationIsReproducibleForASeed()
    {
        var (prompt, _) = Reference();
        string[] Run(string seed) => ["generate", "--model", Tiny, "--prompt-tokens", string.Join(' ', prompt), "--max-tokens", "24", "--temperature", "1.0", "--seed", seed];
        var first = DclmProcess.Run(Run("7"));
        var again = DclmProcess.Run(Run("7"));
        var other = DclmProcess.Run(Run("8"));
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.LastLine, again.LastLine);
        Assert.NotEqual(first.LastLine, other.LastLine);
    }

    [Fact]
    public void LogitsFileHoldsOneRowPerPromptPosition()
    {
        var (prompt, _) = Reference();
        string output = Path.Combine(_directory, "logits.f32");
        var result = DclmProcess.Run("logits", "--model", Tiny, "--prompt-tokens", string.Join(' ', prompt), "--output", output);
        Assert.Equal(0, result.ExitCode);
        var ours = File.ReadAllBytes(output);
        var reference = File.ReadAllBytes(Path.Combine(Tiny, "reference.logits.f32"));
        Assert.Equal(reference.Length, ours.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ours.Length; i += 4)
        {
            float a = BitConverter.ToSingle(ours, i), b = BitConverter.ToSingle(reference, i);
            maxDiff = Math.Max(maxDiff, Math.Abs(a - b));
            maxRef = Math.Max(maxRef, Math.Abs(b));
        }
        Assert.True(maxDiff / maxRef <= 1e-4);
    }

    [Fact]
    public void InfoPrintsArchitectureSizesDtypesAndParameters()
    {
        var result = DclmProcess.Run("info", "--model", DclmProcess.Fixture("dclm-tiny-bf16"));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("OpenLm", result.Output);
        Assert.Contains("BF16", result.Output);
        // 2 layers × (3·64·64 + 64·64 + 2·256·64 + 64·256 + 4·64) + 2·512·64 + 64
        Assert.Contains("197,184", result.Output);
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("f16")]
    public void ConvertWritesAGgufThatGeneratesLikeTheOriginal(string type)
    {
        var (prompt, greedy) = Reference();
        string gguf = Path.Combine(_directory, $"tiny-{type}.gguf");
        Assert.Equal(0, DclmProcess.Run("convert", "--model", Tiny, "--output", gguf, "--type", type).ExitCode);
        var info = DclmProcess.Run("info", "--model", gguf);
        Assert.Contains(type, info.Output);
        var result = DclmProcess.Run("generate", "--model", gguf, "--prompt-tokens", string.Join(' ', prompt), "--max-tokens", "4", "--temperature", "0", "--print-token-ids");
        Assert.Equal(0, result.ExitCode);
        // Quantisation may move late tokens; the first greedy tokens of this fixture are robust.
        if (type != "q4_0") Assert.Equal(string.Join(' ', greedy[..4]), result.LastLine);
        else Assert.Equal(4, result.LastLine.Split(' ').Length);
    }

    [Fact]
    public void ConvertCarriesTheChatTemplateWithTheTokenizer()
    {
        const string template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}";
        string source = Dclm.TestSupport.TinyNeoXModels.Write(_directory, Dclm.Models.ModelConfig.OpenLm(dim: 32, layers: 1, heads: 2, vocabularySize: 50432, contextLength: 256),
            seed: 5, weightScale: 0.2f, DclmProcess.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"), template);
        string output = Path.Combine(_directory, "converted.gguf");
        Assert.Equal(0, DclmProcess.Run("convert", "--model", source, "--output", output, "--type", "q8_0").ExitCode);
        using var gguf = Dclm.Formats.Gguf.GgufFile.Open(output);
        Assert.True(gguf.TryGetString("tokenizer.chat_template", out string? converted));
        Assert.Equal(template, converted);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
