using System.Text.Json;
using Dclm.Data.Decontamination;
using Dclm.Data.Documents;
using Dclm.Data.Pipeline;

namespace Dclm.Data.Tests;

/// <summary>Decontamination against the shipped evaluation tasks (linked from tasks/ into fixtures/tasks).</summary>
public sealed class DecontaminationTests
{
    private static readonly Lazy<List<EvalTaskTexts>> Tasks = new(() => EvalTaskFiles.Read([Fixtures.PathOf("tasks")]));

    private static EvalNgramIndex Index() => new(Tasks.Value, 13, 8);

    private static List<string> Mails(string fixture) =>
        Fixtures.Read(fixture).Select(d => Dclm.Data.Inputs.EmailMessage.ExtractBody(d.Text).Text).ToList();

    [Fact]
    public void ReadsEveryShippedTaskFormat()
    {
        var tasks = Tasks.Value.ToDictionary(t => t.Label);
        Assert.Equal(["HumanEval", "ham_exam_mc", "lambada_moby_dick"], tasks.Keys.Order());
        Assert.Equal(164, tasks["HumanEval"].Items.Count);
        // A multiple-choice item: the question and its four choices, not its id or answer index.
        var first = tasks["ham_exam_mc"].Items[0];
        Assert.Equal(5, first.Count);
        Assert.StartsWith("Which of the following is a safety hazard", first[0]);
    }

    [Fact]
    public void RemovesPlantedCopiesAndNothingElse()
    {
        var index = Index();
        var filter = new DecontaminationFilter(index, dropMatches: true);
        var clean = Fixtures.Read("prose.jsonl.zst").Where(d => d.Source == "sotu").Select(d => d.Text)
            .Concat(Mails("mail-ham.jsonl.zst")).Concat(Mails("mail-spam.jsonl.zst")).ToList();
        var random = new Random(5);
        var planted = new List<(string Text, string Task)>();
        // Questions of at least min_words (8) words: shorter ones are not checked (they would match ordinary text).
        var ham = Tasks.Value.Single(t => t.Label == "ham_exam_mc");
        var longQuestions = ham.Items.Where(item => { var words = new List<ulong>(); EvalNgramIndex.Words(item[0], words); return words.Count >= 8; }).ToList();
        Assert.True(longQuestions.Count > ham.Items.Count / 2);
        var lambada = Tasks.Value.Single(t => t.Label == "lambada_moby_dick");
        var code = Tasks.Value.Single(t => t.Label == "HumanEval");
        for (int i = 0; i < 60; i++)
        {
            var host = clean[random.Next(clean.Count)];
            int cut = host.IndexOf(' ', host.Length / 2) is int at and > 0 ? at : host.Length;
            // An exam question copied with other case and punctuation; a passage of the LAMBADA context; a HumanEval prompt.
            string item = (i % 3) switch
            {
                0 => longQuestions[random.Next(longQuestions.Count)][0].ToUpperInvariant().Replace("?", " ?!"),
                1 => string.Join(' ', lambada.Items[random.Next(lambada.Items.Count)][0].Split(' ').Skip(5).Take(20)),
                _ => code.Items[random.Next(code.Items.Count)][0],
            };
            planted.Add((host[..cut] + "\n" + item + "\n" + host[cut..], (i % 3) switch { 0 => "ham_exam_mc", 1 => "lambada_moby_dick", _ => "HumanEval" }));
        }
        var wrongly = clean.Where(t => filter.Match(t) is not null).ToList();
        Assert.True(wrongly.Count == 0, $"{wrongly.Count} clean pages flagged, e.g. {wrongly.FirstOrDefault()?[..Math.Min(200, wrongly[0].Length)]}");
        foreach (var (text, task) in planted)
        {
            var outcome = filter.Apply(new Document("p", "", "test", text));
            Assert.Equal("eval_overlap_" + task, outcome.DropRule);
        }
        Assert.True(clean.Count > 400);
    }

    [Fact]
    public void MobyDickOverlapsTheTaskCutFromIt()
    {
        // lambada_moby_dick was cut from Moby Dick: the novel's chapters in the fixtures are genuinely contaminated.
        var filter = new DecontaminationFilter(Index(), dropMatches: true);
        var chapters = Fixtures.Read("prose.jsonl.zst").Where(d => d.Source == "moby-dick").ToList();
        Assert.True(chapters.Count(d => filter.Match(d.Text) == "lambada_moby_dick") >= chapters.Count / 2);
    }

    [Fact]
    public void AShortQuestionIsFoundWhole()
    {
        // Nine words: shorter than a 13-gram, long enough (>= 8) to count as one n-gram of its own.
        var tasks = new List<EvalTaskTexts> { new("tiny", "tiny.jsonl", [["What is the capital city of the old kingdom?"]]) };
        var index = new EvalNgramIndex(tasks, 13, 8);
        Assert.Equal(0, index.FirstMatch("Trivia night. what IS the capital city of the old kingdom... nobody knew."));
        Assert.Equal(-1, index.FirstMatch("What is the capital city of the new kingdom?"));
    }

    [Fact]
    public void ReportModeKeepsCountsAndMarksPages()
    {
        var directory = Fixtures.TemporaryDirectory();
        var config = PipelineConfigLoader.Parse($$"""
            decontamination:
              enabled: true
              tasks: [{{Fixtures.PathOf("tasks").Replace("\\", "/")}}]
              action: report
            """, "p.yaml");
        var stage = LocalStages.Build(config).Single(s => s.Name == "decontaminate");
        var statistics = stage.NewStatistics();
        var page = new Document("p", "", "test", "Some text. " + Tasks.Value.Single(t => t.Label == "HumanEval").Items[3][0]);
        Assert.True(stage.Run(page, statistics));
        Assert.Equal("HumanEval", page.ContaminatedBy);
        Assert.Equal(1, statistics.FlaggedBy!["eval_overlap_HumanEval"]);
        Assert.Contains("HumanEval (164 items)", statistics.Notes["tasks"]);
        var json = JsonSerializer.Serialize(statistics);
        Assert.Contains("flagged_by", json);
        Directory.Delete(directory, recursive: true);
    }
}
