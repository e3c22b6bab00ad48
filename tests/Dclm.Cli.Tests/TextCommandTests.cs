using Dclm.TestSupport;

namespace Dclm.Cli.Tests;

/// <summary>Text in and text out through a model that carries DCLM's real tokenizer.</summary>
public sealed class TextCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-text-").FullName;
    private readonly string _model;

    public TextCommandTests() => _model = TinyNeoXModel.Create(_directory);

    [Fact]
    public void TokenizePrintsThePublishedGptNeoXIds()
    {
        // The published GPT-NeoX-20B test vectors: strings separated by __ggml_vocab_test__, one line of ids each.
        string inputs = File.ReadAllText(DclmProcess.Fixture("tokenizers", "gpt-neox-20b.tests.inp"));
        var expected = File.ReadAllLines(DclmProcess.Fixture("tokenizers", "gpt-neox-20b.tests.out"));
        var texts = inputs.Split("\n__ggml_vocab_test__\n");
        int checkedCount = 0;
        for (int i = 0; i < texts.Length && i < expected.Length; i++)
        {
            string text = texts[i];
            if (text.Length == 0 || text.Trim().Length == 0 || text.Contains('\0')) continue;
            var result = DclmProcess.Run("tokenize", "--model", _model, "--text", text);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(expected[i].Trim(), result.LastLine.Trim());
            if (++checkedCount == 6) break;
        }
        Assert.Equal(6, checkedCount);
    }

    [Fact]
    public void GenerateWithASuffixFillsTheMiddleOrNamesTheMissingFimTokens()
    {
        // GPT-NeoX has no FIM tokens: one error line naming them.
        var refused = DclmProcess.Run("generate", "--model", _model, "--prompt", "def f(", "--suffix", "):\n");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("prefix token is missing", refused.Error);

        // A random Qwen2 with the real Qwen tokenizer: prefix, the middle, then the suffix, in place.
        string qwen = Path.Combine(_directory, "qwen.gguf");
        QwenFiles.WriteRandomModel(qwen, contextLength: 256);
        var filled = DclmProcess.Run("generate", "--model", qwen, "--prompt", "def add(a, b):\n    ", "--suffix", "\nprint(add(1, 2))", "--max-tokens", "4",
            "--temperature", "0", "--print-token-ids");
        Assert.True(filled.ExitCode == 0, filled.Error);
        var lines = filled.Output.TrimEnd('\n').Split('\n');
        string text = string.Join('\n', lines[..^1]);
        Assert.StartsWith("def add(a, b):\n    ", text);
        Assert.EndsWith("\nprint(add(1, 2))", text);
        Assert.InRange(lines[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, 1, 4);
    }

    [Fact]
    public void GenerateCanBeHeldToAJsonSchema()
    {
        string schema = Path.Combine(_directory, "verdict.json");
        File.WriteAllText(schema, """{"type": "object", "properties": {"colour": {"enum": ["red", "green"]}, "ok": {"type": "boolean"}}, "required": ["colour", "ok"]}""");
        var result = DclmProcess.Run("generate", "--model", _model, "--prompt", "Verdict:", "--max-tokens", "40", "--seed", "3", "--json-schema", schema);
        Assert.Equal(0, result.ExitCode);
        string reply = result.Output.Trim()["Verdict:".Length..];
        using var document = System.Text.Json.JsonDocument.Parse(reply); // enums and a boolean: always complete in 40 tokens
        Assert.Contains(document.RootElement.GetProperty("colour").GetString(), new[] { "red", "green" });
        Assert.True(document.RootElement.GetProperty("ok").ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False);

        var json = DclmProcess.Run("generate", "--model", _model, "--prompt", "Data:", "--max-tokens", "12", "--seed", "3", "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.StartsWith("{", json.Output.Trim()["Data:".Length..].TrimStart());

        File.WriteAllText(schema, """{"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}}""");
        var refused = DclmProcess.Run("generate", "--model", _model, "--prompt", "x", "--json-schema", schema);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("maximum", refused.Error);
    }

    [Fact]
    public void GenerateStreamsTextAndTokenIds()
    {
        var result = DclmProcess.Run("generate", "--model", _model, "--prompt", "The whale", "--max-tokens", "8", "--seed", "3", "--print-token-ids");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("The whale", result.Output);
        var ids = result.LastLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.InRange(ids.Length, 1, 8);
        Assert.All(ids, id => Assert.InRange(id, 0, 50431));
    }

    /// <summary>Copied (the default for a model this small), mapped and forced copies give the same tokens, and each says where the weights went.</summary>
    [Fact]
    public void EveryWeightResidenceGeneratesTheSameTokensAndSaysWhich()
    {
        string[] arguments = ["generate", "--model", _model, "--prompt", "The whale", "--max-tokens", "8", "--seed", "3", "--print-token-ids"];
        var automatic = DclmProcess.Run(arguments);
        var mapped = DclmProcess.Run([.. arguments, "--mmap"]);
        var copied = DclmProcess.Run([.. arguments, "--no-mmap"]);
        Assert.All(new[] { automatic, mapped, copied }, result => Assert.Equal(0, result.ExitCode));
        Assert.Equal(mapped.LastLine, copied.LastLine);
        Assert.Equal(mapped.LastLine, automatic.LastLine);
        Assert.Contains("dclm: weights copied into memory:", automatic.Error);
        Assert.Contains("available (", automatic.Error);
        Assert.Contains("dclm: weights mapped from the file, as asked", mapped.Error);
        Assert.Contains("dclm: weights copied into memory:", copied.Error);
        Assert.Contains("(asked for)", copied.Error);

        var both = DclmProcess.Run([.. arguments, "--mmap", "--no-mmap"]);
        Assert.NotEqual(0, both.ExitCode);
        Assert.Contains("at most one of --mmap and --no-mmap", both.Error);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
