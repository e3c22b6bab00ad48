using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Checkpoints;
using Dclm.Eval.Reports;
using Dclm.Eval.Runners;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;
using Dclm.Server.Hosting;

namespace Dclm.Eval.Tests;

/// <summary>Harness task scores against outside oracles: `dclm logits` in an independent script, our server over HTTP, and hand-made log-likelihoods.</summary>
public sealed class HarnessScoringTests
{
    private static string Data => HarnessPromptTests.Fixture("data");

    [Fact]
    public void ScoresEqualThoseAnIndependentScriptComputesFromDclmLogits()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-harness-logits-").FullName;
        try
        {
            string report = Path.Combine(directory, "report.json");
            Run(["eval", "--model", DefaultModelFile.Path, "--tasks", "arc_easy", "--shots", "3", "--limit", "1", "--data-dir", Data, "--log-samples", "--output", Path.Combine(directory, "a.json"), "--threads", "1"]);
            Run(["eval", "--model", DefaultModelFile.Path, "--tasks", "winogrande,lambada_openai,mmlu_world_religions", "--limit", "2", "--data-dir", Data,
                "--log-samples", "--bootstrap-iters", "2000", "--output", report, "--threads", "1"]);
            // One report holding both runs' tasks, as the script reads one file.
            var merged = JsonNode.Parse(File.ReadAllText(report))!.AsObject();
            var first = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "a.json")))!["tasks"]![0]!.DeepClone();
            merged["tasks"]!.AsArray().Insert(0, first);
            File.WriteAllText(report, merged.ToJsonString());
            var script = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { HarnessPromptTests.Fixture("score_from_logits.py"), report, HarnessPromptTests.Fixture("harness_requests.json"), "256", "2000", "dotnet", Path.Combine(AppContext.BaseDirectory, "dclm.dll") })
                script.ArgumentList.Add(argument);
            using var process = Process.Start(script)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(600_000), "the script did not finish");
            Assert.True(process.ExitCode == 0, output);
            Assert.Contains("18 requests recomputed from dclm logits, 0 disagreements", output);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    [Fact]
    public async Task ServerScoresEqualInProcessScores()
    {
        await using var server = await DclmServer.StartAsync(new ServerOptions
        {
            ModelPath = DefaultModelFile.Path, Host = "127.0.0.1", Port = 0, Threads = 1, ApiKey = "secret",
            Engine = new Inference.Engine.EngineOptions { MaxRunningSequences = 8, ContextLength = 256 },
        });
        await server.Host.Loading;
        // Both sides score at most 255 tokens a sequence: the server keeps one for the token it generates.
        var options = new EvalOptions { DataDirectory = Data, MaxLength = 255, BootstrapIterations = 100 };
        // Harness tasks, and CORE's kinds (categories, 10 shots cut to the window, schema, language modelling) on its fixtures.
        var core = TaskCatalog.ResolveAll(["core"], HarnessPromptTests.TasksDirectory, Path.Combine(AppContext.BaseDirectory, "fixtures", "foundry", "core"))
            .Where(t => t.Label is "jeopardy" or "arc_challenge" or "winograd" or "bigbench_operators");
        var tasks = TaskCatalog.ResolveAll(["arc_easy", "winogrande", "lambada_openai", "hellaswag", "ham_exam"], HarnessPromptTests.TasksDirectory)
            .Select(t => t is Harness.HarnessTask h && h.Label == "arc_easy" ? h with { Shots = 3 } : t).Concat(core).ToList();
        Assert.Equal(9, tasks.Count);
        using var remote = await Task.Run(() => RemoteScoringModel.Connect(server.Address.ToString(), "secret"));
        Assert.Equal(256, remote.ContextLength);
        var overHttp = await Task.Run(() => new Evaluator(remote, options: options with { Limit = 3 }).RunAll(tasks, "server"));
        using var loaded = ModelLoader.Load(DefaultModelFile.Path);
        var inProcess = new Evaluator(loaded.Model, loaded.RequireTokenizer(), options with { Limit = 3 }).RunAll(tasks, "local");
        for (int t = 0; t < tasks.Count; t++)
        {
            var (a, b) = (overHttp.Tasks[t], inProcess.Tasks[t]);
            Assert.Equal(b.Metrics.Keys.Order(), a.Metrics.Keys.Order());
            foreach (var (metric, value) in b.Metrics)
                Assert.True(Math.Abs(value - a.Metrics[metric]) <= (metric.StartsWith("perplexity", StringComparison.Ordinal) ? 1e-3 * value : metric.Contains("cross_entropy", StringComparison.Ordinal) ? 1e-5 : 1e-12), $"{b.Label} {metric}: in process {value}, server {a.Metrics[metric]}");
            for (int i = 0; i < b.ItemResults.Count; i++)
                for (int j = 0; j < b.ItemResults[i].Choices!.Count; j++)
                    Assert.Equal(b.ItemResults[i].Choices![j].LogProbability, a.ItemResults[i].Choices![j].LogProbability, 3);
        }
        Assert.Throws<InvalidDataException>(() => RemoteScoringModel.Connect(server.Address.ToString(), "wrong"));
    }

    /// <summary>A model whose log-likelihoods are given per continuation text, to pin the metric rules.</summary>
    private sealed class FixedScores(Dictionary<string, double> byContinuation) : IScoringModel
    {
        public int LongestSequence => 1000;
        public int? EndOfSequenceId => 0;
        public long BatchedPasses { get; private set; }
        public int[] Encode(string text, bool addSpecialTokens = false) => text.Select(c => (int)c).ToArray();
        public ContinuationScore[] Score(IReadOnlyList<ScoringOption> options, int longest, CancellationToken cancellation = default)
        {
            BatchedPasses++;
            return options.Select(o => new ContinuationScore(byContinuation[new string(o.Continuation.Select(c => (char)c).ToArray())], o.Continuation.Length, false)).ToArray();
        }
    }

    [Fact]
    public void AccNormDividesByCharactersNotBytesAndTiesGoToTheFirst()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-accnorm-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "piqa"));
            // "éé" has 2 characters and 4 UTF-8 bytes; "abc" 3 and 3. ll/chars: -0.5 vs -0.6 picks "éé"; ll/bytes would pick "abc".
            File.WriteAllLines(Path.Combine(directory, "piqa", "validation.jsonl"), [
                "{\"goal\": \"g1\", \"sol1\": \"éé\", \"sol2\": \"abc\", \"label\": 0}",
                "{\"goal\": \"g2\", \"sol1\": \"x\", \"sol2\": \"y\", \"label\": 1}",
            ]);
            var model = new FixedScores(new() { [" éé"] = -1.0, [" abc"] = -1.8, [" x"] = -2.0, [" y"] = -2.0 });
            var result = new Evaluator(model, options: new EvalOptions { DataDirectory = directory }).Run(HarnessPromptTests.Task("piqa", 0));
            Assert.Equal(0, result.ItemResults[0].PredictedCharacterNormalized);
            Assert.Equal(0, result.ItemResults[0].Predicted);
            Assert.Equal(0, result.ItemResults[1].Predicted); // a tie: numpy's argmax takes the first
            Assert.Equal(0.5, result.Metrics["acc"]);
            Assert.Equal(0.5, result.Metrics["acc_norm"]);
            Assert.Equal(0.5, result.Metrics["acc_stderr"], 12); // sample stddev √0.5 / √2
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    [Fact]
    public void StandardErrorsFollowTheHarness()
    {
        Assert.Equal(Math.Sqrt(((1 - 0.75) * (1 - 0.75) * 3 + 0.75 * 0.75) / 3) / 2, Statistics.MeanStandardError([1, 1, 1, 0]), 15);
        Assert.True(double.IsNaN(Statistics.MeanStandardError([1])));
        // pooled_sample_stderr([0.1, 0.2], [10, 30]) = √(((9·0.01·10) + (29·0.04·30)) / 38 / 40)
        Assert.Equal(Math.Sqrt((9 * 0.01 * 10 + 29 * 0.04 * 30) / 38.0 / 40.0), Statistics.PooledStandardError([0.1, 0.2], [10, 30]), 15);
        // bootstrap_stderr(perplexity, [-1, -2, -4], 2000) as Python's random.Random(0..1).choices draws it.
        var script = new ProcessStartInfo("python3") { RedirectStandardOutput = true };
        script.ArgumentList.Add("-c");
        script.ArgumentList.Add("import math, random\nxs=[-1.0,-2.0,-4.0]\nres=[]\nfor i in range(2):\n r=random.Random(i)\n for _ in range(1000): s=r.choices(xs,k=3); res.append(math.exp(-sum(s)/len(s)))\nmu=sum(res)/len(res)\nprint(repr(math.sqrt(sum((x-mu)**2 for x in res)/(len(res)-1))))");
        using var python = Process.Start(script)!;
        double expected = double.Parse(python.StandardOutput.ReadToEnd(), System.Globalization.CultureInfo.InvariantCulture);
        python.WaitForExit();
        Assert.Equal(expected, Statistics.BootstrapStandardError([-1, -2, -4], Statistics.Perplexity, 2000), 9);
    }

    [Fact]
    public void CompareLinesUpTwoReports()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-compare-").FullName;
        try
        {
            string a = Path.Combine(directory, "a.json"), b = Path.Combine(directory, "b.json");
            Run(["eval", "--model", DefaultModelFile.Path, "--tasks", "boolq,mmlu_world_religions,mmlu_abstract_algebra", "--data-dir", Data, "--output", a, "--threads", "1"]);
            Run(["eval", "--model", DefaultModelFile.Path, "--tasks", "boolq,mmlu_world_religions,mmlu_abstract_algebra", "--shots", "2", "--data-dir", Data, "--output", b, "--threads", "1"]);
            var output = Run(["eval", "compare", a, b]);
            Assert.Contains("boolq", output);
            Assert.Contains("mmlu_humanities", output);
            Assert.Contains("acc_stderr", File.ReadAllText(a));
            var reportA = ReportWriter.Read(a);
            var rows = ReportComparison.Compare(reportA, ReportWriter.Read(b), out var onlyIn);
            Assert.Empty(onlyIn);
            var boolq = rows.Single(r => r.Name == "boolq" && r.Metric == "acc");
            Assert.Equal(reportA.Tasks.Single(t => t.Label == "boolq").Metrics["acc"], boolq.A);
            Assert.Contains(rows, r => r.Name == "mmlu" && r.Metric == "acc");
            Assert.Contains("| mmlu | 0 | acc |", File.ReadAllText(Path.ChangeExtension(a, ".md")));
            var bad = EvalCommandTests.Dclm("eval", "compare", a, Path.Combine(directory, "missing.json"));
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("missing.json: no such report", bad.Error);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    internal static string Run(string[] arguments)
    {
        var (code, output, error) = EvalCommandTests.Dclm(arguments);
        Assert.True(code == 0, error + output);
        return output;
    }
}
