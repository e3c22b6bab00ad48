using System.Text.Json;
using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Tests;

/// <summary>
/// DCLM's CORE suite as <c>tasks/core.yaml</c> defines it equals what DCLM and llm-foundry 0.9.0 do, task by task:
/// fixtures/foundry/core/core_prompts.json was recorded by record_core_prompts.py, which reads DCLM's own eval yaml,
/// CORE list and random baselines, and runs llm-foundry's get_icl_task_dataloader over small files in each dataset's
/// local_data layout (make_core_data.py), keeping every string its tokenize_example tokenizes. Here the same files run
/// through <c>dclm eval</c>'s runners with a model that records what it is asked to encode and score.
/// </summary>
public sealed class CorePromptTests
{
    private static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures", "foundry", "core");

    private static readonly Lazy<JsonElement> Recording = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "core_prompts.json"))).RootElement);

    private static TaskSpec Core(string label) =>
        TaskCatalog.ResolveAll(["core"], HarnessPromptTests.TasksDirectory, Directory).Cast<TaskSpec>().Single(t => t.Label == label);

    public static TheoryData<string> Labels()
    {
        var data = new TheoryData<string>();
        foreach (var run in Recording.Value.EnumerateArray()) data.Add(run.GetProperty("label").GetString()!);
        return data;
    }

    [Fact]
    public void TheSuiteHoldsDclmsTwentyTwoCoreTasksInItsOrder()
    {
        var ours = TaskCatalog.ResolveAll(["core"], HarnessPromptTests.TasksDirectory, Directory).Select(t => t.Label);
        Assert.Equal(Recording.Value.EnumerateArray().Select(r => r.GetProperty("label").GetString()), ours);
        Assert.Equal(22, ours.Count());
    }

    [Theory]
    [MemberData(nameof(Labels))]
    public void DefinitionEqualsDclms(string label)
    {
        var run = Recording.Value.EnumerateArray().Single(r => r.GetProperty("label").GetString() == label);
        var spec = Core(label);
        Assert.Equal(run.GetProperty("icl_task_type").GetString(), TaskKinds.Name(spec.Kind!.Value));
        Assert.Equal(run.GetProperty("num_fewshot").GetInt32(), spec.Shots);
        Assert.Equal(run.GetProperty("prompt_string").GetString(), spec.PromptString);
        Assert.Equal(run.GetProperty("example_delimiter").GetString(), spec.ExampleDelimiter);
        Assert.Equal(run.GetProperty("continuation_delimiter").GetString(), spec.ContinuationDelimiter);
        Assert.Equal(run.GetProperty("fewshot_random_seed").GetInt32(), spec.FewShotSeed);
        Assert.Equal(run.GetProperty("has_categories").GetBoolean(), spec.HasCategories);
        Assert.Equal("", spec.Prelimiter);
        Assert.True(spec.StripData);
        Assert.Equal(run.GetProperty("random_baseline").GetDouble() / 100, spec.RandomBaseline!.Value, 12);
        Assert.EndsWith(run.GetProperty("dataset_uri").GetString()!.Replace('/', Path.DirectorySeparatorChar), spec.DatasetPath);
    }

    [Theory]
    [MemberData(nameof(Labels))]
    public void EveryScoredPromptAndContinuationEqualsLlmFoundrys(string label)
    {
        var run = Recording.Value.EnumerateArray().Single(r => r.GetProperty("label").GetString() == label);
        var model = new RecordingModel();
        var result = new Evaluator(model).Run(Core(label));
        var expected = run.GetProperty("items");
        Assert.Equal(expected.GetArrayLength(), model.Questions.Count);
        Assert.Equal(expected.GetArrayLength(), result.Items);
        if (run.GetProperty("categories").ValueKind == JsonValueKind.Array)
            Assert.Equal(run.GetProperty("categories").EnumerateArray().Select(c => c.GetString()), result.Categories!.Select(c => c.Label[(label.Length + 1)..]));
        for (int i = 0; i < model.Questions.Count; i++)
        {
            string preamble = expected[i].GetProperty("preamble").GetString()!;
            var options = expected[i].GetProperty("options").EnumerateArray()
                .Select(o => (Prompt: preamble + o[0].GetString(), Continuation: o[1].GetString()!)).ToArray();
            Assert.Equal(preamble, model.Preambles[i]);
            Assert.Equal(options, model.Questions[i]);
        }
    }

    /// <summary>
    /// Encodes text as its UTF-16 code units (" a" is one token, as in GPT-NeoX's BPE, so continuations get llm-foundry's
    /// prefix space); keeps the last text encoded with special tokens (the preamble) and every scored option as text.
    /// </summary>
    private sealed class RecordingModel : IScoringModel
    {
        private string _preamble = "";
        public List<string> Preambles { get; } = [];
        public List<(string Prompt, string Continuation)[]> Questions { get; } = [];
        public int LongestSequence => 1 << 20;
        public int? EndOfSequenceId => 0;
        public long BatchedPasses => Questions.Count;

        public int[] Encode(string text, bool addSpecialTokens = false)
        {
            if (addSpecialTokens) _preamble = text;
            return text == " a" ? [-1] : text.Select(c => (int)c).ToArray();
        }

        public ContinuationScore[] Score(IReadOnlyList<ScoringOption> options, int longest, CancellationToken cancellation = default)
        {
            Preambles.Add(_preamble);
            Questions.Add(options.Select(o => (Text(o.Context), Text(o.Continuation))).ToArray());
            return options.Select((o, j) => new ContinuationScore(-j, o.Continuation.Length, false)).ToArray();
        }

        private static string Text(IEnumerable<int> ids) => new(ids.Select(id => (char)id).ToArray());
    }
}
