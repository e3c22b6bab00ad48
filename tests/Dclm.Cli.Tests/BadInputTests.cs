namespace Dclm.Cli.Tests;

/// <summary>Users' mistakes end in one line on stderr that names the file and the problem, and a non-zero exit.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-bad-").FullName;

    private static void AssertOneLineError(DclmProcess.Result result, params string[] mentions)
    {
        Assert.NotEqual(0, result.ExitCode);
        string error = result.Error.Trim();
        Assert.Single(error.Split('\n'));
        foreach (var mention in mentions) Assert.Contains(mention, error);
    }

    [Fact]
    public void MissingModel() =>
        AssertOneLineError(DclmProcess.Run("info", "--model", "/no/such/model"), "/no/such/model");

    [Fact]
    public void TruncatedGguf()
    {
        string gguf = Path.Combine(_directory, "tiny.gguf");
        Assert.Equal(0, DclmProcess.Run("convert", "--model", DclmProcess.Fixture("dclm-tiny"), "--output", gguf, "--type", "f32").ExitCode);
        var bytes = File.ReadAllBytes(gguf);
        File.WriteAllBytes(gguf, bytes[..(bytes.Length * 2 / 3)]);
        AssertOneLineError(DclmProcess.Run("generate", "--model", gguf, "--prompt-tokens", "1 2 3"), gguf);
    }

    [Fact]
    public void GgufWithFlippedMagic()
    {
        string gguf = Path.Combine(_directory, "flipped.gguf");
        File.WriteAllBytes(gguf, [.. "GGUX"u8, .. new byte[64]]);
        AssertOneLineError(DclmProcess.Run("info", "--model", gguf), gguf);
    }

    [Fact]
    public void TokenIdsOutsideTheVocabulary() =>
        AssertOneLineError(DclmProcess.Run("logits", "--model", DclmProcess.Fixture("dclm-tiny"), "--prompt-tokens", "1 99999", "--output", Path.Combine(_directory, "x")), "99999");

    [Fact]
    public void TextPromptForAModelWithoutATokenizer() =>
        AssertOneLineError(DclmProcess.Run("generate", "--model", DclmProcess.Fixture("dclm-tiny"), "--prompt", "hello"), "tokenizer");

    [Fact]
    public void AbsurdSamplingParameters()
    {
        AssertOneLineError(DclmProcess.Run("generate", "--model", DclmProcess.Fixture("dclm-tiny"), "--prompt-tokens", "1 2", "--top-p", "7"), "top_p");
        AssertOneLineError(DclmProcess.Run("generate", "--model", DclmProcess.Fixture("dclm-tiny"), "--prompt-tokens", "1 2", "--max-tokens", "-5"), "max_tokens");
    }

    [Fact]
    public void ConflictingOrAbsurdSpeculationOptions()
    {
        string tiny = DclmProcess.Fixture("dclm-tiny");
        AssertOneLineError(DclmProcess.Run("generate", "--model", tiny, "--prompt-tokens", "1 2", "--lookup-ngram", "2", "--model-draft", tiny), "--model-draft", "--lookup-ngram");
        AssertOneLineError(DclmProcess.Run("generate", "--model", tiny, "--prompt-tokens", "1 2", "--lookup-ngram", "2", "--draft-max", "0"), "--draft-max");
        AssertOneLineError(DclmProcess.Run("generate", "--model", tiny, "--prompt-tokens", "1 2", "--lookup-ngram", "-1"), "--lookup-ngram");
        AssertOneLineError(DclmProcess.Run("generate", "--model", tiny, "--prompt-tokens", "1 2", "--model-draft", "/no/such/draft"), "/no/such/draft");
    }

    [Fact]
    public void ADeviceThatIsNotThereOrOptionsThatRunOnTheCpuOnlyAreOneLineBeforeLoading()
    {
        string tiny = DclmProcess.Fixture("dclm-tiny"), task = Path.Combine(_directory, "mc.jsonl");
        File.WriteAllText(task, """{"query": "q", "choices": ["a", "b"], "gold": 0}""" + "\n");
        // cuda:99 is missing on every machine; plain cuda only where there is no GPU.
        bool hasCuda;
        try { using var probe = Gpu.GpuDevice.Open("cuda"); hasCuda = true; }
        catch (Gpu.GpuUnavailableException) { hasCuda = false; }
        foreach (string device in hasCuda ? ["cuda:99"] : new[] { "cuda:99", "cuda" })
        {
            AssertOneLineError(DclmProcess.Run("serve", "--model", tiny, "--port", "0", "--device", device), "--device " + device);
            AssertOneLineError(DclmProcess.Run("eval", "--model", tiny, "--tasks", task, "--device", device), "--device " + device);
            AssertOneLineError(DclmProcess.Run("chat", "--model", tiny, "--device", device), "--device " + device);
            AssertOneLineError(DclmProcess.Run("generate", "--model", tiny, "--prompt-tokens", "1 2", "--device", device), "--device " + device);
        }
        AssertOneLineError(DclmProcess.Run("serve", "--model", tiny, "--port", "0", "--device", "cpu-accel", "--kv-type", "int8"), "--kv-type int8", "CPU only");
        // --lora runs on a device too; a directory that is not an adapter is the same one line as on the CPU.
        AssertOneLineError(DclmProcess.Run("logits", "--model", tiny, "--prompt-tokens", "1 2", "--output", Path.Combine(_directory, "l"), "--device", "cpu-accel", "--lora", _directory), _directory, "adapter_config.json");
    }

    [Fact]
    public void UnknownConversionType() =>
        AssertOneLineError(DclmProcess.Run("convert", "--model", DclmProcess.Fixture("dclm-tiny"), "--output", Path.Combine(_directory, "x.gguf"), "--type", "q3_xs"), "q3_xs");

    /// <summary>dclm-tiny with a byte-level tokenizer.json whose Split pattern is <paramref name="pattern"/>.</summary>
    private string TinyModelWithSplitPattern(string pattern)
    {
        string model = Path.Combine(_directory, "split-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(model);
        foreach (string file in Directory.GetFiles(DclmProcess.Fixture("dclm-tiny"))) File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var vocabulary = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++)
        {
            // GPT-2's byte alphabet: printable Latin-1 stands for itself, the rest maps to U+0100 onwards.
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            vocabulary[((char)(printable ? b : 256 + vocabulary.Keys.Count(key => key[0] >= 256))).ToString()] = b;
        }
        vocabulary["aa"] = 256;
        File.WriteAllText(Path.Combine(model, "tokenizer.json"), System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = new Dictionary<string, object?> { ["type"] = "BPE", ["vocab"] = vocabulary, ["merges"] = new[] { "a a" } },
            ["pre_tokenizer"] = new
            {
                type = "Sequence",
                pretokenizers = new object[]
                {
                    new { type = "Split", pattern = new { Regex = pattern }, behavior = "Isolated", invert = false },
                    new { type = "ByteLevel", add_prefix_space = false, use_regex = false },
                },
            },
        }));
        return model;
    }

    [Fact]
    public void APathologicalSplitPatternNoLongerCrashesTokenize()
    {
        // Issue 23: with Split (a+)+$, `dclm tokenize` on 40 "a"s ended in an unhandled RegexMatchTimeoutException.
        var result = DclmProcess.Run("tokenize", "--model", TinyModelWithSplitPattern("(a+)+$"), "--text", new string('a', 40) + "b");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Join(' ', Enumerable.Repeat(256, 20).Append(98)), result.LastLine);
    }

    [Fact]
    public void ASplitPatternThatCannotRunSafelyIsRefusedNamingFileAndPattern()
    {
        string model = TinyModelWithSplitPattern("(a+)+(?!b)");
        AssertOneLineError(DclmProcess.Run("tokenize", "--model", model, "--text", "aaa"), Path.Combine(model, "tokenizer.json"), "(a+)+(?!b)", "cannot be run safely");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
