using System.Text.Json;
using Dclm.Eval.Code;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;
using Dclm.Checkpoints;
using Dclm.Eval.Runners;
using Dclm.Server.Hosting;

namespace Dclm.Eval.Tests;

/// <summary>
/// Generation and code tasks over <c>--server</c> (no local model): our own server on the default model generates
/// what the in-process run generates, greedy and sampled with the same seeds, so the scores are equal.
/// </summary>
public sealed class ServerGenerationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-server-generation-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task GenerationAndCodeTasksOverTheServerEqualInProcess()
    {
        using var loaded = ModelLoader.Load(DefaultModelFile.Path);
        var local = new Generation.LocalCompletionModel(loaded.Model, loaded.RequireTokenizer());
        // One answer is the model's own greedy continuation, so exact match is not trivially 0.
        string own = local.Complete(loaded.RequireTokenizer().Encode("Call me Ishmael. Some years ago"), new Generation.CompletionRequest(3, ["\n"])).Trim();
        Assert.NotEqual("", own);
        string qa = Path.Combine(_directory, "qa.jsonl");
        File.WriteAllLines(qa,
        [
            JsonSerializer.Serialize(new { context = "Call me Ishmael. Some years ago", answer = own, aliases = Array.Empty<string>() }),
            JsonSerializer.Serialize(new { context = "The whale was", answer = "zzzz qqqq", aliases = new[] { "xxxx" } }),
            JsonSerializer.Serialize(new { context = "It was the best of times,", answer = "it was", aliases = Array.Empty<string>() }),
        ]);
        string code = Path.Combine(_directory, "code.jsonl");
        File.WriteAllLines(code,
        [
            JsonSerializer.Serialize(new { task_id = "t/0", prompt = "def add(a, b):\n", canonical_solution = "    return a + b\n", test = "def check(f):\n    assert f(2, 3) == 5\n", entry_point = "add" }),
            JsonSerializer.Serialize(new { task_id = "t/1", prompt = "def one():\n", canonical_solution = "    return 1\n", test = "def check(f):\n    assert f() == 1\n", entry_point = "one" }),
        ]);
        var tasks = new[]
        {
            new TaskSpec { Label = "qa", DatasetPath = qa, StopStrings = ["\n"] },
            new TaskSpec { Label = "code_greedy", DatasetPath = code, StripData = false, ContinuationDelimiter = "", Temperature = 0 },
            new TaskSpec { Label = "code_sampled", DatasetPath = code, StripData = false, ContinuationDelimiter = "", Temperature = 0.8f, Samples = 3, PassAtK = [1, 2] },
        };
        var options = new EvalOptions { Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(30) } };

        await using var server = await DclmServer.StartAsync(new ServerOptions
        {
            ModelPath = DefaultModelFile.Path, Host = "127.0.0.1", Port = 0, Threads = 1,
            Engine = new Inference.Engine.EngineOptions { MaxRunningSequences = 4, ContextLength = loaded.Config.ContextLength },
        });
        await server.Host.Loading;
        using var remote = await Task.Run(() => RemoteScoringModel.Connect(server.Address.ToString()));
        var overHttp = await Task.Run(() => new Evaluator(remote, options: options).RunAll(tasks, "server"));
        var inProcess = new Evaluator(loaded.Model, loaded.RequireTokenizer(), options).RunAll(tasks, "local");

        Assert.Equal(1.0 / 3, inProcess.Tasks[0].Metrics["exact_match"], 12);
        // The sampled task did sample (the seeds differ per sample), and the server drew the same tokens.
        Assert.Contains(inProcess.Tasks[2].ItemResults, r => r.Completions!.Distinct().Count() > 1);
        Assert.Contains(inProcess.Tasks[1].ItemResults, r => r.Output!.Trim().Length > 0);
        for (int t = 0; t < tasks.Length; t++)
        {
            var (a, b) = (overHttp.Tasks[t], inProcess.Tasks[t]);
            Assert.Equal(b.Items, a.Items);
            Assert.Equal(b.Metrics, a.Metrics);
            for (int i = 0; i < b.ItemResults.Count; i++)
            {
                Assert.Equal(b.ItemResults[i].Output, a.ItemResults[i].Output);
                Assert.Equal(b.ItemResults[i].Completions, a.ItemResults[i].Completions);
                Assert.Equal(b.ItemResults[i].Correct, a.ItemResults[i].Correct);
            }
        }
    }

    [Fact]
    public void StopStringsCutTheTextAtTheFirstOfThem()
    {
        var request = new Generation.CompletionRequest(10, ["\nclass", "\ndef", "\nif", "\nprint", "\n#"]);
        Assert.Equal("    return 1", request.CutAtStop("    return 1\n#\ndef g():"));
        Assert.Equal("abc", request.CutAtStop("abc"));
    }
}
