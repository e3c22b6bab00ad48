using System.Text;
using Dclm.Eval.Reports;
using Dclm.Eval.Runners;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Tests;

/// <summary>
/// Whole tasks on a tiny model with the GPT-NeoX vocabulary: every choice's score equals a fresh full
/// forward over llm-foundry's token boundary (context encoded alone, " choice" encoded alone).
/// </summary>
public sealed class TaskScoringTests : IClassFixture<TinyNeoXModel>, IDisposable
{
    private readonly TinyNeoXModel _model;
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-tasks-").FullName;

    public TaskScoringTests(TinyNeoXModel model) => _model = model;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void MultipleChoiceScoresEqualDirectComputation()
    {
        string path = Write("mc.jsonl",
            """{"query": "The capital of France is", "choices": ["Paris", "London", "a large red balloon"], "gold": 0}""",
            """{"question": "Which is a colour?", "choices": ["blue", "seven", "running", "maybe"], "answer": 0}""",
            """{"query": "Water boils at", "choices": ["100 degrees", "ten"], "gold": 1}""");
        var tokenizer = _model.Loaded.RequireTokenizer();
        var result = new Evaluator(_model.Loaded.Model, tokenizer).Run(new TaskSpec { Label = "mc", DatasetPath = path });
        Assert.Equal(TaskKind.MultipleChoice, result.Kind);
        Assert.Equal(3, result.Items);
        Assert.Equal(3, result.BatchedPasses);
        var (_, items) = TaskFileReader.Read(path);
        int correct = 0, correctSum = 0, correctBytes = 0;
        for (int i = 0; i < items.Count; i++)
        {
            var item = (MultipleChoiceItem)items[i];
            var outcome = result.ItemResults[i];
            // llm-foundry: the context is rstripped (the " " delimiter disappears), the choice gets a leading space.
            var context = tokenizer.Encode(item.Query);
            var direct = item.Choices.Select(c => DirectScoring.Continuation(_model.Loaded.Model, context, tokenizer.Encode(" " + c))).ToArray();
            var tokens = item.Choices.Select(c => tokenizer.Encode(" " + c).Length).ToArray();
            for (int j = 0; j < direct.Length; j++) Assert.Equal(direct[j].LogProbability, outcome.Choices![j].LogProbability, 4);
            int byMean = ArgMax(direct.Select((d, j) => d.LogProbability / tokens[j]));
            int bySum = ArgMax(direct.Select(d => d.LogProbability));
            int byBytes = ArgMax(direct.Select((d, j) => d.LogProbability / Encoding.UTF8.GetByteCount(" " + item.Choices[j])));
            Assert.Equal(byMean, outcome.Predicted);
            Assert.Equal(bySum, outcome.PredictedUnnormalized);
            Assert.Equal(byBytes, outcome.PredictedByteNormalized);
            correct += byMean == item.Gold ? 1 : 0;
            correctSum += bySum == item.Gold ? 1 : 0;
            correctBytes += byBytes == item.Gold ? 1 : 0;
        }
        Assert.Equal(correct / 3.0, result.Metrics["accuracy"], 12);
        Assert.Equal(correctSum / 3.0, result.Metrics["accuracy_unnormalized"], 12);
        Assert.Equal(correctBytes / 3.0, result.Metrics["accuracy_bytes"], 12);
        double r = (1 / 3.0 + 1 / 4.0 + 1 / 2.0) / 3;
        Assert.Equal(r, result.RandomBaseline, 12);
        Assert.Equal((result.Accuracy - r) / (1 - r), result.CenteredAccuracy, 12);
    }

    [Fact]
    public void SchemaScoresTheSharedContinuationUnderEachContext()
    {
        string path = Write("schema.jsonl",
            """{"context_options": ["The trophy did not fit in the suitcase because the trophy", "The trophy did not fit in the suitcase because the suitcase"], "continuation": "was too big.", "gold": 0}""",
            """{"context_options": ["She gave him the book because she", "She gave him the book because he"], "continuation": "asked for it", "gold": 1}""");
        var tokenizer = _model.Loaded.RequireTokenizer();
        var result = new Evaluator(_model.Loaded.Model, tokenizer).Run(new TaskSpec { Label = "schema", DatasetPath = path });
        Assert.Equal(TaskKind.Schema, result.Kind);
        Assert.Equal(0.5, result.RandomBaseline, 12);
        var (_, items) = TaskFileReader.Read(path);
        for (int i = 0; i < items.Count; i++)
        {
            var item = (SchemaItem)items[i];
            var continuation = tokenizer.Encode(" " + item.Continuation);
            var direct = item.ContextOptions.Select(c => DirectScoring.Continuation(_model.Loaded.Model, tokenizer.Encode(c), continuation).LogProbability).ToArray();
            for (int j = 0; j < direct.Length; j++) Assert.Equal(direct[j], result.ItemResults[i].Choices![j].LogProbability, 4);
            Assert.Equal(ArgMax(direct), result.ItemResults[i].Predicted);
        }
    }

    [Fact]
    public void LanguageModelingNeedsEveryGreedyTokenToMatch()
    {
        var tokenizer = _model.Loaded.RequireTokenizer();
        // The model's own greedy continuation must count as correct; a changed word must not.
        var context = tokenizer.Encode("It was the best of times, it was the worst of");
        var greedy = Greedy(context, 3);
        string greedyText = tokenizer.Decode(greedy);
        string path = Write("lm.jsonl",
            $$"""{"context": "It was the best of times, it was the worst of", "continuation": {{System.Text.Json.JsonSerializer.Serialize(greedyText.TrimStart())}}}""",
            """{"context": "It was the best of times, it was the worst of", "continuation": "zebra crossings"}""");
        var result = new Evaluator(_model.Loaded.Model, tokenizer).Run(new TaskSpec { Label = "lm", DatasetPath = path });
        Assert.Equal(TaskKind.LanguageModeling, result.Kind);
        bool expectFirst = tokenizer.Encode(" " + greedyText.TrimStart()).SequenceEqual(greedy);
        Assert.Equal(expectFirst, result.ItemResults[0].Correct);
        Assert.Equal(DirectScoring.Continuation(_model.Loaded.Model, context, tokenizer.Encode(" zebra crossings")).Greedy, result.ItemResults[1].Correct);
    }

    [Fact]
    public void FewShotPromptsFollowLlmFoundryLayout()
    {
        string path = Write("shots.jsonl",
            """{"query": "q0", "choices": ["a0", "b0"], "gold": 0}""",
            """{"query": "q1", "choices": ["a1", "b1"], "gold": 1}""",
            """{"query": "q2", "choices": ["a2", "b2"], "gold": 0}""");
        var spec = new TaskSpec { Label = "shots", DatasetPath = path, Shots = 2, Prelimiter = "Question: ", ContinuationDelimiter = "\nAnswer: " };
        var (_, items) = TaskFileReader.Read(path);
        var builder = new Prompting.PromptBuilder(spec, items);
        string preamble = builder.Preamble(0);
        // Item 0 can only get items 1 and 2 as shots; shots show the gold answer without a prefix space.
        Assert.Equal("Question: q1\nAnswer: b1\nQuestion: q2\nAnswer: a2", preamble);
        Assert.Equal("\nQuestion: q0\nAnswer: ", builder.Context(items[0], preamble));
        // The same seed gives the same prompts.
        var again = new Prompting.PromptBuilder(spec, items);
        Assert.Equal(preamble, again.Preamble(0));
        Assert.Equal(builder.Preamble(1), again.Preamble(1));
        var result = new Evaluator(_model.Loaded.Model, _model.Loaded.RequireTokenizer()).Run(spec);
        Assert.Equal(3, result.Items);
        Assert.Equal(preamble + "\nQuestion: q0\nAnswer: ", result.ItemResults[0].Prompt);
    }

    [Fact]
    public void LimitEvaluatesTheFirstItemsOnly()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "tasks", "ham_exam_mc.jsonl");
        var result = new Evaluator(_model.Loaded.Model, _model.Loaded.RequireTokenizer(), new EvalOptions { Limit = 4 })
            .Run(new TaskSpec { Label = "ham", DatasetPath = path });
        Assert.Equal(4, result.Items);
        Assert.Equal(["T0A01", "T0A02", "T0A03", "T0A04"], result.ItemResults.Select(r => r.Id));
        Assert.Equal(4, result.BatchedPasses);
    }

    private int[] Greedy(int[] context, int count)
    {
        var ids = context.ToList();
        var generated = new List<int>();
        for (int i = 0; i < count; i++)
        {
            var logits = DirectScoring.AllLogits(_model.Loaded.Model, ids.ToArray());
            int vocabulary = _model.Loaded.Config.VocabularySize;
            var last = logits.AsSpan((ids.Count - 1) * vocabulary, vocabulary);
            int best = 0;
            for (int v = 1; v < vocabulary; v++) if (last[v] > last[best]) best = v;
            ids.Add(best);
            generated.Add(best);
        }
        return generated.ToArray();
    }

    private static int ArgMax(IEnumerable<double> values)
    {
        var list = values.ToList();
        int best = 0;
        for (int j = 1; j < list.Count; j++) if (list[j] > list[best]) best = j;
        return best;
    }

    [Fact]
    public void HasCategoriesRunsEachCategoryAsItsOwnTaskAndAveragesThem()
    {
        // llm-foundry partitions the file by category (sorted) and samples shots within each partition from a fresh seed.
        string[] b = ["""{"query": "b one", "choices": ["x", "y"], "gold": 0, "category": "b"}""", """{"query": "b two", "choices": ["x", "y"], "gold": 1, "category": "b"}""", """{"query": "b three", "choices": ["x", "y"], "gold": 0, "category": "b"}"""];
        string[] a = ["""{"query": "a one", "choices": ["p", "q"], "gold": 1, "category": "a"}""", """{"query": "a two", "choices": ["p", "q"], "gold": 0, "category": "a"}"""];
        string all = Write("all.jsonl", [b[0], a[0], b[1], a[1], b[2]]);
        var tokenizer = _model.Loaded.RequireTokenizer();
        var spec = new TaskSpec { Label = "cat", DatasetPath = all, Shots = 1, HasCategories = true };
        var result = new Evaluator(_model.Loaded.Model, tokenizer).Run(spec);
        var byCategory = new[] { ("a", Write("a.jsonl", a)), ("b", Write("b.jsonl", b)) }
            .Select(c => new Evaluator(_model.Loaded.Model, tokenizer).Run(new TaskSpec { Label = c.Item1, DatasetPath = c.Item2, Shots = 1 })).ToList();
        Assert.Equal(["cat/a", "cat/b"], result.Categories!.Select(c => c.Label));
        Assert.Equal(byCategory.SelectMany(r => r.ItemResults.Select(i => i.Prompt)), result.ItemResults.Select(i => i.Prompt));
        Assert.Equal((byCategory[0].Accuracy + byCategory[1].Accuracy) / 2, result.Accuracy, 12);
        Assert.Equal(5, result.Items);
        string suite = Path.Combine(_directory, "suite.yaml");
        File.WriteAllText(suite, $"icl_tasks:\n- label: cat\n  dataset_uri: {all}\n  num_fewshot: [1]\n  icl_task_type: multiple_choice\n  has_categories: true\n");
        Assert.True(Assert.Single(TaskCatalog.Resolve([suite])).HasCategories);
    }
}
