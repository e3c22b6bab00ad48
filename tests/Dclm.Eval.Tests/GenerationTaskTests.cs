using Dclm.Eval.Code;
using Dclm.Eval.Runners;
using Dclm.Eval.Tasks;
using Dclm.Inference;

namespace Dclm.Eval.Tests;

/// <summary>Generation and code tasks driven by a model (the tiny random one), checked against direct generation.</summary>
public sealed class GenerationTaskTests : IClassFixture<TinyNeoXModel>, IDisposable
{
    private readonly TinyNeoXModel _model;
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-generation-").FullName;

    public GenerationTaskTests(TinyNeoXModel model) => _model = model;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ExactMatchCountsTheModelsOwnGreedyAnswerAndNotAnotherOne()
    {
        var tokenizer = _model.Loaded.RequireTokenizer();
        const string question = "What is the capital of France?";
        // The context is rstripped, so the prompt is the question alone (the " " delimiter goes).
        var generator = new TextGenerator(_model.Loaded.Model, tokenizer);
        string greedy = string.Concat(generator.Generate(tokenizer.Encode(question), SamplingOptions.Greedy with { MaxTokens = 2, StopStrings = ["\n"] }).Select(c => c.Text));
        Assert.False(string.IsNullOrWhiteSpace(greedy));
        string path = Path.Combine(_directory, "qa.jsonl");
        File.WriteAllLines(path,
        [
            System.Text.Json.JsonSerializer.Serialize(new { context = question, answer = greedy.Trim(), aliases = Array.Empty<string>() }),
            System.Text.Json.JsonSerializer.Serialize(new { context = question, answer = "zzzz qqqq", aliases = new[] { "xxxx yyyy" } }),
        ]);
        var result = new Evaluator(_model.Loaded.Model, tokenizer).Run(new TaskSpec { Label = "qa", DatasetPath = path });
        Assert.Equal(TaskKind.Generation, result.Kind);
        Assert.StartsWith(greedy, result.ItemResults[0].Output);
        Assert.Equal(AnswerNormalizer(result.ItemResults[0].Output!, greedy.Trim()), result.ItemResults[0].Correct);
        Assert.False(result.ItemResults[1].Correct);
    }

    [Fact]
    public void CodePromptsLongerThanTheWindowAreCutFromTheStart()
    {
        string longPrompt = "def f():\n    \"\"\"" + string.Join(' ', Enumerable.Repeat("a long docstring word", 400)) + "\n    \"\"\"\n";
        Assert.True(_model.Loaded.RequireTokenizer().Encode(longPrompt).Length > _model.Loaded.Config.ContextLength);
        string path = Path.Combine(_directory, "long.jsonl");
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new { task_id = "long/0", prompt = longPrompt, canonical_solution = "    return 1\n", test = "def check(f):\n    assert f() == 1\n", entry_point = "f" }) + "\n");
        var options = new EvalOptions { Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(30) } };
        var result = new Evaluator(_model.Loaded.Model, _model.Loaded.RequireTokenizer(), options)
            .Run(new TaskSpec { Label = "long", DatasetPath = path, StripData = false, Temperature = 0 });
        Assert.Equal(1, result.Items);
        Assert.Single(result.ItemResults[0].Outcomes!);
    }

    private static bool AnswerNormalizer(string output, string answer) => Scoring.AnswerNormalizer.Matches(output, [answer], normalize: true);

    [Fact]
    public void CodeTasksSampleEveryCompletionAndRunItInTheSandbox()
    {
        string path = Path.Combine(_directory, "code.jsonl");
        File.WriteAllLines(path,
        [
            System.Text.Json.JsonSerializer.Serialize(new { task_id = "t/0", prompt = "def add(a, b):\n", canonical_solution = "    return a + b\n", test = "def check(f):\n    assert f(2, 3) == 5\n", entry_point = "add" }),
            System.Text.Json.JsonSerializer.Serialize(new { task_id = "t/1", prompt = "def one():\n", canonical_solution = "    return 1\n", test = "def check(f):\n    assert f() == 1\n", entry_point = "one" }),
        ]);
        var options = new EvalOptions { Sandbox = new SandboxOptions { TimeLimit = TimeSpan.FromSeconds(30) } };
        var spec = new TaskSpec { Label = "code", DatasetPath = path, StripData = false, ContinuationDelimiter = "", Samples = 3, PassAtK = [1, 2] };
        var result = new Evaluator(_model.Loaded.Model, _model.Loaded.RequireTokenizer(), options).Run(spec);
        Assert.Equal(2, result.Items);
        Assert.All(result.ItemResults, r => Assert.Equal(3, r.Samples));
        Assert.All(result.ItemResults, r => Assert.Equal(3, r.Outcomes!.Count));
        Assert.All(result.ItemResults, r => Assert.Equal(3, r.Completions!.Count));
        double expected1 = result.ItemResults.Average(r => PassAtK.Estimate(3, r.Passed!.Value, 1));
        double expected2 = result.ItemResults.Average(r => PassAtK.Estimate(3, r.Passed!.Value, 2));
        Assert.Equal(expected1, result.Metrics["pass@1"], 12);
        Assert.Equal(expected2, result.Metrics["pass@2"], 12);
        // Sampling is seeded: the same run gives the same completions.
        var again = new Evaluator(_model.Loaded.Model, _model.Loaded.RequireTokenizer(), options).Run(spec);
        Assert.Equal(result.ItemResults.Select(r => r.Output), again.ItemResults.Select(r => r.Output));
    }
}
