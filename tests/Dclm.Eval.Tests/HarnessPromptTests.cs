using System.Text.Json;
using Dclm.Eval.Data;
using Dclm.Eval.Harness;
using Dclm.Eval.Tasks;

namespace Dclm.Eval.Tests;

/// <summary>
/// Every request (context, continuation) our harness tasks build equals what lm-evaluation-harness's own
/// code built from the same fixture files: fixtures/harness/harness_requests.json, recorded by
/// record_harness_prompts.py running the harness's ConfigurableTask, samplers and task YAML files.
/// </summary>
public sealed class HarnessPromptTests
{
    internal static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", "harness", .. parts]);
    internal static string TasksDirectory => Path.Combine(AppContext.BaseDirectory, "tasks");

    public static TheoryData<string, int> Recorded()
    {
        var data = new TheoryData<string, int>();
        foreach (var record in Recording().EnumerateArray()) data.Add(record.GetProperty("task").GetString()!, record.GetProperty("shots").GetInt32());
        return data;
    }

    private static JsonElement Recording() => JsonDocument.Parse(File.ReadAllText(Fixture("harness_requests.json"))).RootElement;

    internal static HarnessTask Task(string name, int shots) =>
        (HarnessTask)Assert.Single(TaskCatalog.ResolveAll([name], TasksDirectory)) with { Shots = shots };

    [Theory]
    [MemberData(nameof(Recorded))]
    public void RequestsEqualTheHarnesses(string name, int shots) => AssertRequestsEqual(name, shots, Fixture("data"));

    [Theory]
    [InlineData("arc_easy", 3)]
    [InlineData("hellaswag", 3)]
    [InlineData("mmlu_world_religions", 5)]
    [InlineData("winogrande", 3)]
    public void ParquetWrittenByArrowGivesTheSameRequests(string name, int shots)
    {
        // The JSONL fixture with some splits replaced by Parquet files an outside writer made (make_parquet.mjs).
        string directory = Directory.CreateTempSubdirectory("dclm-parquet-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Fixture("data"), "*.jsonl", SearchOption.AllDirectories))
            {
                string target = Path.Combine(directory, Path.GetRelativePath(Fixture("data"), file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            foreach (var file in Directory.GetFiles(Fixture("parquet"), "*.parquet", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(Fixture("parquet"), file);
                string split = Path.GetFileNameWithoutExtension(file).Split('-')[0];
                File.Delete(Path.Combine(directory, Path.GetDirectoryName(relative)!, split + ".jsonl"));
                File.Copy(file, Path.Combine(directory, relative));
            }
            Assert.Empty(Directory.GetFiles(Path.Combine(directory, "arc_easy"), "test.jsonl"));
            AssertRequestsEqual(name, shots, directory);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    private static void AssertRequestsEqual(string name, int shots, string dataDirectory)
    {
        var record = Recording().EnumerateArray().Single(r => r.GetProperty("task").GetString() == name && r.GetProperty("shots").GetInt32() == shots);
        var task = Task(name, shots);
        var documents = HarnessDocuments.Load(task, new DataDirectory(dataDirectory), needShots: shots > 0);
        var builder = new HarnessPromptBuilder(task, documents.FewShot);
        var expected = record.GetProperty("documents");
        Assert.Equal(expected.GetArrayLength(), documents.Evaluated.Count);
        for (int i = 0; i < documents.Evaluated.Count; i++)
        {
            var requests = builder.Build(documents.Evaluated[i]).Requests;
            var want = expected[i].EnumerateArray().Select(r => (r[0].GetString()!, r[1].GetString()!)).ToList();
            Assert.Equal(want, requests.Select(r => (r.Context, r.Continuation)).ToList());
        }
    }

    [Fact]
    public void MmluGroupCategoriesAndSubjectsResolve()
    {
        var all = TaskCatalog.ResolveAll(["mmlu"], TasksDirectory).Cast<HarnessTask>().ToList();
        Assert.Equal(57, all.Count);
        Assert.Equal(["humanities", "other", "social_sciences", "stem"], all.Select(t => t.Category!).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(19, all.Count(t => t.Category == "stem"));
        Assert.Equal(19, TaskCatalog.ResolveAll(["mmlu_stem"], TasksDirectory).Count);
        var anatomy = Assert.Single(TaskCatalog.ResolveAll(["mmlu_anatomy"], TasksDirectory));
        Assert.Equal("The following are multiple choice questions (with answers) about anatomy.\n\n", ((HarnessTask)anatomy).Description);
    }

    [Fact]
    public void OneFileOfAllSubjectsIsFilteredBySubject()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-mmlu-all-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "mmlu", "all"));
            foreach (var split in new[] { "dev", "test" })
                File.WriteAllLines(Path.Combine(directory, "mmlu", "all", split + ".jsonl"),
                    new[] { "abstract_algebra", "world_religions" }.SelectMany(s => File.ReadAllLines(Fixture("data", "mmlu", s, split + ".jsonl"))));
            AssertRequestsEqual("mmlu_world_religions", 5, directory);
            AssertRequestsEqual("mmlu_abstract_algebra", 0, directory);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    [Fact]
    public void BadDataIsAClearError()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => HarnessDocuments.Load(Task("piqa", 0), new DataDirectory(Fixture("parquet")), false));
        Assert.Contains("no validation split", missing.Message);
        string directory = Directory.CreateTempSubdirectory("dclm-bad-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "arc_easy"));
            File.WriteAllText(Path.Combine(directory, "arc_easy", "test.jsonl"), "{\"question\": \"q\", \"choices\": {\"text\": [\"a\"], \"label\": [\"A\"]}, \"answerKey\": \"B\"}\n");
            var documents = HarnessDocuments.Load(Task("arc_easy", 0), new DataDirectory(directory), false);
            var error = Assert.Throws<FormatException>(() => new HarnessPromptBuilder(Task("arc_easy", 0), documents.FewShot).Build(documents.Evaluated[0]));
            Assert.Contains("'B' is not in ['A']", error.Message);
            File.WriteAllText(Path.Combine(directory, "arc_easy", "test.parquet"), "not parquet");
            File.Delete(Path.Combine(directory, "arc_easy", "test.jsonl"));
            Assert.Contains("not a readable Parquet file", Assert.Throws<InvalidDataException>(() => HarnessDocuments.Load(Task("arc_easy", 0), new DataDirectory(directory), false)).Message);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }
}
