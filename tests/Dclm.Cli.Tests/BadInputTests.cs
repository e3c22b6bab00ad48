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
        AssertOneLineError(DclmProcess.Run("generate", "--model", DclmProcess.Fixture("dclm-tiny"), "--prompt-tokens", "1 2", "--max-tokens", "-5"), "max tokens");
    }

    [Fact]
    public void UnknownConversionType() =>
        AssertOneLineError(DclmProcess.Run("convert", "--model", DclmProcess.Fixture("dclm-tiny"), "--output", Path.Combine(_directory, "x.gguf"), "--type", "q3_xs"), "q3_xs");

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
