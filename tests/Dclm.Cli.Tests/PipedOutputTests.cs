using System.Diagnostics;

namespace Dclm.Cli.Tests;

/// <summary>
/// What a new user meets first: training text without naming a tokenizer, and output that goes to a file or a log
/// holding only dclm's own lines (no carriage-return progress, no terminal escape sequences).
/// </summary>
public sealed class PipedOutputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-piped-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private string Corpus()
    {
        string path = Path.Combine(_directory, "corpus.txt");
        File.WriteAllLines(path, Enumerable.Range(0, 200).Select(i => $"Paragraph {i}: the committee met again on day {i % 31} to discuss budget line {i * 7 % 113}."));
        return path;
    }

    private static void AssertPlain(string text)
    {
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
    }

    [Fact]
    public void TrainingTextWithoutATokenizerUsesDclmsAndSaysSo()
    {
        string tokenizer = DclmProcess.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf");
        var result = DclmProcess.RunWith(new Dictionary<string, string?> { ["DCLM_DEFAULT_MODEL"] = tokenizer },
            "train", "--data", Corpus(), "--output", Path.Combine(_directory, "run"), "--dim", "32", "--layers", "1", "--heads", "2",
            "--seq-len", "64", "--batch-size", "2", "--steps", "3", "--warmup", "1", "--threads", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"no --tokenizer given: using DCLM's GPT-NeoX-20B tokenizer from {tokenizer}", result.Error);
        Assert.Contains("vocab 50432", result.Error); // DCLM's vocabulary: GPT-NeoX-20B's tokens, padded as DCLM pads them
        Assert.StartsWith("final model:", result.LastLine);
        AssertPlain(result.Output);
        AssertPlain(result.Error);
    }

    [Fact]
    public void WithoutATokenizerOrTheBuiltInModelTheErrorSaysWhatToPass()
    {
        var result = DclmProcess.RunWith(new Dictionary<string, string?> { ["DCLM_DEFAULT_MODEL"] = Path.Combine(_directory, "absent.gguf") },
            "train", "--data", Corpus(), "--output", Path.Combine(_directory, "run"), "--steps", "1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("pass --tokenizer", Assert.Single(result.Error.Trim().Split('\n')));
    }

    /// <summary>
    /// Under a terminal whose output is recorded (as mpirun's or script's pty is), with dclm's own output sent to files:
    /// nothing reaches the terminal (.NET's console would write ESC[?1h ESC= there), and the files hold plain lines.
    /// </summary>
    [Fact]
    public void ConvertUnderARecordedTerminalWritesNoEscapesAndNoCarriageReturns()
    {
        if (!OperatingSystem.IsLinux()) return;
        string output = Path.Combine(_directory, "out.txt"), error = Path.Combine(_directory, "err.txt");
        string dclm = Path.Combine(AppContext.BaseDirectory, "dclm.dll");
        string command = $"dotnet '{dclm}' convert --model '{DclmProcess.Fixture("dclm-tiny")}' --output '{Path.Combine(_directory, "tiny.gguf")}' --type q8_0 > '{output}' 2> '{error}'";
        var start = new ProcessStartInfo("script", ["-qec", command, "/dev/null"]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        string terminal = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(DclmProcess.HangLimit));
        Assert.Equal(0, process.ExitCode);
        Assert.Equal("", terminal);
        Assert.StartsWith("wrote ", File.ReadAllText(output));
        AssertPlain(File.ReadAllText(output));
        Assert.Equal("", File.ReadAllText(error));
    }
}
