using System.Diagnostics;
using System.Text.Json;

namespace Dclm.Eval.Tests;

/// <summary>`dclm eval` and `dclm perplexity` end to end, as users run them.</summary>
public sealed class EvalCommandTests : IClassFixture<TinyNeoXModel>, IDisposable
{
    private readonly TinyNeoXModel _model;
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-cli-").FullName;

    public EvalCommandTests(TinyNeoXModel model) => _model = model;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    internal static (int ExitCode, string Output, string Error) Dclm(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(300_000)) { process.Kill(entireProcessTree: true); throw new TimeoutException("dclm did not finish"); }
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void EvalPrintsATableAndWritesJsonAndMarkdown()
    {
        string report = Path.Combine(_directory, "report.json");
        var (code, output, error) = Dclm("eval", "--model", _model.Path, "--tasks", "ham_exam,lambada_moby_dick", "--limit", "5", "--output", report, "--threads", "1");
        Assert.True(code == 0, error);
        Assert.Contains("ham_exam", output);
        Assert.Contains("CORE", output);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var tasks = json.RootElement.GetProperty("tasks");
        Assert.Equal(2, tasks.GetArrayLength());
        Assert.Equal(5, tasks[0].GetProperty("items").GetInt32());
        Assert.Equal(5, tasks[0].GetProperty("batched_passes").GetInt64());
        Assert.Equal(5, tasks[0].GetProperty("item_results").GetArrayLength());
        Assert.Equal(4, tasks[0].GetProperty("item_results")[0].GetProperty("choices").GetArrayLength());
        Assert.Contains("| ham_exam |", File.ReadAllText(Path.Combine(_directory, "report.md")));
    }

    [Fact]
    public void CanonicalHumanEvalRunsWithoutAModel()
    {
        var (code, output, error) = Dclm("eval", "--tasks", "humaneval", "--use-canonical-solutions", "--limit", "8", "--timeout", "60");
        Assert.True(code == 0, error);
        Assert.Contains("pass@1", output);
        Assert.Contains("1.0000", output);
        Assert.Contains("sandbox:", output);
    }

    [Fact]
    public void PerplexityPrintsPerplexityAndBitsPerByte()
    {
        string text = Path.Combine(_directory, "text.txt");
        File.WriteAllText(text, string.Join(' ', Enumerable.Repeat("The whale swam past the ship.", 30)));
        var (code, output, error) = Dclm("perplexity", "--model", _model.Path, "--text", text, "--window", "64", "--threads", "1");
        Assert.True(code == 0, error);
        Assert.Contains("perplexity ", output);
        Assert.Contains("bits per byte ", output);
    }

    [Fact]
    public void BadArgumentsAreOneLineErrors()
    {
        var missing = Dclm("eval", "--model", _model.Path, "--tasks", Path.Combine(_directory, "nope.jsonl"));
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: ", missing.Error);
        Assert.Single(missing.Error.Trim().Split('\n'));
        string absent = Path.Combine(_directory, "absent.gguf");
        var noModel = Dclm("eval", "--model", absent, "--tasks", "ham_exam");
        Assert.Equal(1, noModel.ExitCode);
        Assert.Contains(absent, noModel.Error);
        var bad = Path.Combine(_directory, "bad.jsonl");
        File.WriteAllText(bad, "{\"query\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 5}\n");
        var badTask = Dclm("eval", "--model", _model.Path, "--tasks", bad);
        Assert.Equal(1, badTask.ExitCode);
        Assert.Contains("bad.jsonl:1: gold 5 is outside the 2 choices", badTask.Error);
    }
}
