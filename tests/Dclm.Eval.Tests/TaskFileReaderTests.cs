using Dclm.Eval.Scoring;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Tests;

public sealed class TaskFileReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-reader-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(params string[] lines)
    {
        string path = Path.Combine(_directory, $"task{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void ReadsEveryMultipleChoiceLayout()
    {
        string path = Write(
            """{"query": " Q1 ", "choices": ["a", "b"], "gold": 1}""",
            """{"question": "Q2", "choices": ["a", "b", "c"], "answer": 2}""",
            """{"ctx": "Q3", "endings": ["a", "b"], "label": "1"}""",
            """{"question": "Q4", "choices": {"text": ["x", "y", "z"], "label": ["A", "B", "C"]}, "answerKey": "C"}""",
            """{"question": "Q5", "choices": {"text": ["x", "y"], "label": ["1", "2"]}, "answerKey": "2"}""",
            """{"question": "Q6", "choices": ["yes", "no"], "answer": "no"}""");
        var (kind, items) = TaskFileReader.Read(path);
        Assert.Equal(TaskKind.MultipleChoice, kind);
        var mc = items.Cast<MultipleChoiceItem>().ToArray();
        Assert.Equal("Q1", mc[0].Query);
        Assert.Equal([1, 2, 1, 2, 1, 1], mc.Select(m => m.Gold));
    }

    [Fact]
    public void ReadsTheShippedTasks()
    {
        var (hamKind, ham) = TaskFileReader.Read(Path.Combine(AppContext.BaseDirectory, "tasks", "ham_exam_mc.jsonl"));
        Assert.Equal(TaskKind.MultipleChoice, hamKind);
        Assert.True(ham.Count > 1000);
        var (codeKind, code) = TaskFileReader.Read(Path.Combine(AppContext.BaseDirectory, "tasks", "HumanEval.jsonl.gz"), strip: false);
        Assert.Equal(TaskKind.Code, codeKind);
        Assert.Equal(164, code.Count);
        Assert.Equal("HumanEval/0", code[0].Id);
        var (lambadaKind, lambada) = TaskFileReader.Read(Path.Combine(AppContext.BaseDirectory, "tasks", "lambada_moby_dick.jsonl"));
        Assert.Equal(TaskKind.LanguageModeling, lambadaKind);
        Assert.True(lambada.Count >= 200);
        Assert.All(lambada.Cast<LanguageModelingItem>(), item => Assert.DoesNotContain(' ', item.Continuation));
    }

    [Fact]
    public void InfersSchemaLanguageModelingAndGeneration()
    {
        Assert.Equal(TaskKind.Schema, TaskFileReader.Read(Write("""{"context_options": ["a", "b"], "continuation": "c", "gold": 0}""")).Kind);
        Assert.Equal(TaskKind.LanguageModeling, TaskFileReader.Read(Write("""{"context": "a", "continuation": "b"}""")).Kind);
        var (kind, items) = TaskFileReader.Read(Write("""{"context": "Q", "answer": "Paris", "aliases": ["paris, france"]}"""));
        Assert.Equal(TaskKind.Generation, kind);
        Assert.Equal(["paris, france"], ((GenerationItem)items[0]).Aliases);
    }

    [Fact]
    public void ReadsHarnessPiqaAndWinogrande()
    {
        var (piqaKind, piqa) = TaskFileReader.Read(Write("""{"goal": "Open a jar", "sol1": "twist the lid", "sol2": "eat the lid", "label": 0}"""));
        Assert.Equal(TaskKind.MultipleChoice, piqaKind);
        var item = (MultipleChoiceItem)piqa[0];
        Assert.Equal(("Open a jar", 0), (item.Query, item.Gold));
        Assert.Equal(["twist the lid", "eat the lid"], item.Choices);
        var (kind, items) = TaskFileReader.Read(Write("""{"sentence": "The trophy did not fit in the suitcase because the _ was too big.", "option1": "trophy", "option2": "suitcase", "answer": "1"}"""));
        Assert.Equal(TaskKind.Schema, kind);
        var schema = (SchemaItem)items[0];
        Assert.Equal(["The trophy did not fit in the suitcase because the trophy", "The trophy did not fit in the suitcase because the suitcase"], schema.ContextOptions);
        Assert.Equal("was too big.", schema.Continuation);
        Assert.Equal(0, schema.Gold);
    }

    [Theory]
    [InlineData("""{"sentence": "no blank", "option1": "a", "option2": "b", "answer": "1"}""", ":1: sentence has no '_' blank")]
    [InlineData("""{"sentence": "a _ b", "option1": "a", "option2": "b", "answer": "3"}""", ":1: answer '3' must be")]
    [InlineData("""{"query": "q", "choices": ["a", "b"], "gold": 2}""", ":1: gold 2 is outside the 2 choices")]
    [InlineData("""{"query": "q", "choices": ["a"], "gold": 0}""", ":1: choices needs at least two entries")]
    [InlineData("""{"query": "q", "choices": ["a", 3], "gold": 0}""", ":1: choices must hold only strings")]
    [InlineData("""{"query": "q", "choices": ["a", "b"]}""", ":1: missing the correct answer")]
    [InlineData("""not json""", ":1: not valid JSON")]
    [InlineData("""[1, 2]""", ":1: a record must be a JSON object")]
    [InlineData("""{"foo": 1}""", ":1: cannot tell the task type")]
    public void BadRecordsNameTheFileAndLine(string line, string message)
    {
        string path = Write(line);
        var error = Assert.Throws<InvalidDataException>(() => TaskFileReader.Read(path));
        Assert.StartsWith(path, error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void EmptyAndMissingFilesAreClearErrors()
    {
        Assert.Contains("holds no records", Assert.Throws<InvalidDataException>(() => TaskFileReader.Read(Write("", "  "))).Message);
        Assert.Throws<FileNotFoundException>(() => TaskFileReader.Read(Path.Combine(_directory, "missing.jsonl")));
    }

    [Fact]
    public void SuitesResolveByNameAndFromYaml()
    {
        var shipped = TaskCatalog.Resolve(["shipped"], Path.Combine(AppContext.BaseDirectory, "tasks"));
        Assert.Contains(shipped, s => s.Label == "ham_exam");
        Assert.Contains(shipped, s => s.Label == "lambada_moby_dick");
        string data = Write("""{"query": "q", "choices": ["a", "b"], "gold": 0}""");
        string suite = Path.Combine(_directory, "suite.yaml");
        File.WriteAllText(suite, $"""
            icl_tasks:
            - label: mine
              dataset_uri: {Path.GetFileName(data)}
              num_fewshot: [0, 3]
              icl_task_type: multiple_choice
              continuation_delimiter: "\nAnswer: "
              random_baseline: 25
            """);
        var specs = TaskCatalog.Resolve([suite]);
        Assert.Equal(["mine_0shot", "mine_3shot"], specs.Select(s => s.Label));
        Assert.Equal("\nAnswer: ", specs[0].ContinuationDelimiter);
        Assert.Equal(0.25, specs[1].RandomBaseline);
        File.WriteAllText(suite, $"icl_tasks:\n- dataset_uri: {Path.GetFileName(data)}\n  num_fewshot: 2\n");
        Assert.Equal(2, Assert.Single(TaskCatalog.Resolve([suite])).Shots);
        File.WriteAllText(suite, $"icl_tasks:\n- dataset_uri: {Path.GetFileName(data)}\n  num_fewshot: [two]\n");
        Assert.Contains("num_fewshot: 'two' is not an integer", Assert.Throws<InvalidDataException>(() => TaskCatalog.Resolve([suite])).Message);
        Assert.Contains("neither a task file nor a suite name", Assert.Throws<FileNotFoundException>(() => TaskCatalog.Resolve(["no-such-suite"], _directory)).Message);
    }

    [Theory]
    [InlineData("The Eiffel Tower!", "eiffel tower")]
    [InlineData("  an   apple_pie. ", "apple pie")]
    [InlineData("‘Quoted’ `word`", "quoted word")]
    public void AnswersNormaliseLikeLlmFoundry(string input, string expected)
    {
        Assert.Equal(expected, AnswerNormalizer.Normalize(input));
    }

    [Fact]
    public void GenerationMatchesByNormalisedPrefix()
    {
        Assert.True(AnswerNormalizer.Matches("The Paris, of course", ["paris"], normalize: true));
        Assert.False(AnswerNormalizer.Matches("It is Paris", ["paris"], normalize: true));
        Assert.False(AnswerNormalizer.Matches("paris", ["Paris"], normalize: false));
    }

    [Fact]
    public void CoreSuiteHoldsDclmsTwentyTwoTasksWithTheirBaselines()
    {
        // The files only need to exist to resolve; they lie under --data-dir in llm-foundry's local_data layout.
        string core = Path.Combine(AppContext.BaseDirectory, "tasks", "core.yaml");
        foreach (var line in File.ReadAllLines(core).Where(l => l.Contains("dataset_uri: ")))
        {
            string file = Path.Combine(_directory, "data", line.Split("dataset_uri: ")[1].Replace("local_data/", ""));
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, "");
        }
        var specs = TaskCatalog.ResolveAll(["core"], Path.Combine(AppContext.BaseDirectory, "tasks"), Path.Combine(_directory, "data")).Cast<TaskSpec>().ToList();
        Assert.Equal(["hellaswag_zeroshot", "jeopardy", "bigbench_qa_wikidata", "arc_easy", "arc_challenge", "copa", "commonsense_qa", "piqa", "openbook_qa",
            "lambada_openai", "hellaswag", "winograd", "winogrande", "bigbench_dyck_languages", "agi_eval_lsat_ar", "bigbench_cs_algorithms", "bigbench_operators",
            "bigbench_repeat_copy_logic", "squad", "coqa", "boolq", "bigbench_language_identification"], specs.Select(s => s.Label));
        var byName = specs.ToDictionary(s => s.Label);
        Assert.Equal(0.403, byName["commonsense_qa"].RandomBaseline!.Value, 12);
        Assert.Equal(0.5, byName["copa"].RandomBaseline!.Value, 12);
        Assert.Equal(0, byName["squad"].RandomBaseline!.Value);
        Assert.Equal((10, "\nAnswer: "), (byName["arc_easy"].Shots, byName["arc_easy"].ContinuationDelimiter));
        Assert.Equal((3, TaskKind.MultipleChoice), (byName["agi_eval_lsat_ar"].Shots, byName["agi_eval_lsat_ar"].Kind!.Value));
        Assert.Equal(TaskKind.Schema, byName["winogrande"].Kind);
        Assert.True(byName["jeopardy"].HasCategories);
        Assert.Equal(0.2, TaskCatalog.ResolveAll(["core_v1"], Path.Combine(AppContext.BaseDirectory, "tasks"), Path.Combine(_directory, "data")).Cast<TaskSpec>().Single(s => s.Label == "commonsense_qa").RandomBaseline!.Value, 12);
    }
}
