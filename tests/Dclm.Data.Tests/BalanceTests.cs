using System.Text.Json.Nodes;
using Dclm.Data.Documents;
using Dclm.Data.IO;
using Dclm.Data.Mixing;
using Dclm.Data.Pipeline;
using Dclm.Formats;

namespace Dclm.Data.Tests;

public sealed class BalanceTests
{
    private static List<(Document Document, string Group)> Pages(int a, int b) =>
        Enumerable.Range(0, a).Select(i => (new Document($"a{i}", "", "a", "x"), "a"))
            .Concat(Enumerable.Range(0, b).Select(i => (new Document($"b{i}", "", "b", "x"), "b"))).ToList();

    private static HashSet<string> Kept(Balancer balancer, List<(Document Document, string Group)> pages, IEnumerable<int> order)
    {
        var ordinals = order.ToList();
        foreach (var (ordinal, position) in ordinals.Select((o, p) => (o, p))) balancer.Observe(ordinal, pages[ordinal].Document, pages[ordinal].Group);
        balancer.Plan();
        return ordinals.Where(o => balancer.Decide(o) is null).Select(o => pages[o].Document.Id).ToHashSet();
    }

    [Fact]
    public void DownSamplesToTheTargetsKeepingTheScarceGroupWhole()
    {
        var pages = Pages(100, 40);
        var balancer = new Balancer(new Dictionary<string, double> { ["a"] = 3, ["b"] = 1 }, seed: 7); // 75% / 25%
        var kept = Kept(balancer, pages, Enumerable.Range(0, pages.Count));
        // N = min(100 / 0.75, 40 / 0.25) = 133.3: 100 of a (all), 33 of b.
        Assert.Equal(100, kept.Count(id => id[0] == 'a'));
        Assert.Equal(33, kept.Count(id => id[0] == 'b'));
        var notes = new Dictionary<string, string>();
        balancer.Describe(notes);
        Assert.Equal("a=0.752, b=0.248", notes["achieved"]);
        Assert.Equal("a=100, b=40", notes["available"]);
    }

    [Fact]
    public void TheChoiceDependsOnIdsAndSeedNotOnOrder()
    {
        var pages = Pages(50, 50);
        var targets = new Dictionary<string, double> { ["a"] = 0.2, ["b"] = 0.8 };
        var forward = Kept(new Balancer(targets, 1), pages, Enumerable.Range(0, 100));
        var shuffled = Enumerable.Range(0, 100).ToArray();
        new Random(3).Shuffle(shuffled);
        Assert.Equal(forward, Kept(new Balancer(targets, 1), pages, shuffled));
        Assert.NotEqual(forward, Kept(new Balancer(targets, 2), pages, Enumerable.Range(0, 100)));
        Assert.Equal(12, forward.Count(id => id[0] == 'a')); // N = 62.5: 12 of a, 50 of b
    }

    [Fact]
    public void GroupsWithoutATargetAreDropped()
    {
        var pages = Pages(10, 10);
        var balancer = new Balancer(new Dictionary<string, double> { ["a"] = 1 }, 1);
        for (int i = 0; i < pages.Count; i++) balancer.Observe(i, pages[i].Document, pages[i].Group);
        balancer.Plan();
        Assert.Null(balancer.Decide(0));
        Assert.Equal("group_without_target", balancer.Decide(15));
    }

    [Fact]
    public void CurateReportsTheAchievedProportions()
    {
        var root = Fixtures.TemporaryDirectory();
        var prose = Fixtures.Read("prose.jsonl.zst");
        foreach (var source in new[] { "sotu", "moby-dick" })
        {
            var path = Path.Combine(root, "input", source + ".jsonl.zst");
            AtomicFile.Write(path, stream =>
            {
                using var compressed = CompressedFile.WrapWrite(new NonClosingStream(stream), path);
                DocumentJsonl.WriteAll(compressed, prose.Where(d => d.Source == source));
            });
        }
        var config = PipelineConfigLoader.Parse("""
            url_filter: { enabled: false }
            language: { enabled: false }
            heuristics: { enabled: false }
            quality: { enabled: false }
            balance:
              enabled: true
              targets: { sotu: 0.5, moby-dick: 0.5 }
            """, "p.yaml");
        var report = CurationRunner.Run(config, new CurationOptions(Path.Combine(root, "input"), Path.Combine(root, "out")) { Threads = 2 })!;
        var balance = report.Stages.Single(s => s.Name == "balance");
        Assert.Equal("moby-dick=0.500, sotu=0.500", balance.Notes["achieved"]);
        Assert.Equal(report.OutputBySource["sotu"], report.OutputBySource["moby-dick"]);
        Assert.Equal(balance.DocsIn - balance.DocsOut, balance.RemovedBy["balanced_away"]);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "out", "report.json")))!;
        Assert.Contains(json["stages"]!.AsArray(), s => (string)s!["name"]! == "balance");
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void BalancesByAClassifiersLabel()
    {
        var root = Fixtures.TemporaryDirectory();
        var prose = Fixtures.Read("prose.jsonl.zst");
        var spam = Fixtures.Read("mail-spam.jsonl.zst").Take(100).Select(d => new Document(d.Id, "", "mail", Dclm.Data.Inputs.EmailMessage.ExtractBody(d.Text).Text)).ToList();
        var model = Dclm.Data.Quality.ClassifierTraining.Train(prose.Select(d => d.Text).ToList(), spam.Select(d => d.Text).ToList(),
            new() { FastText = ClassifierTests.Small with { Buckets = 1 << 12 }, HeldOutFraction = 0 }).Model;
        var modelPath = Path.Combine(root, "labels.bin");
        AtomicFile.Write(modelPath, model.Save);
        var path = Path.Combine(root, "input", "all.jsonl.zst");
        AtomicFile.Write(path, stream =>
        {
            using var compressed = CompressedFile.WrapWrite(new NonClosingStream(stream), path);
            DocumentJsonl.WriteAll(compressed, prose.Concat(spam));
        });
        var config = PipelineConfigLoader.Parse($$"""
            url_filter: { enabled: false }
            language: { enabled: false }
            heuristics: { enabled: false }
            quality: { enabled: false }
            balance:
              enabled: true
              by: label
              model: {{modelPath}}
              targets: { hq: 1, cc: 1 }
            """, "p.yaml");
        var report = CurationRunner.Run(config, new CurationOptions(Path.Combine(root, "input"), Path.Combine(root, "out")))!;
        var balance = report.Stages.Single(s => s.Name == "balance");
        Assert.Equal("cc=0.500, hq=0.500", balance.Notes["achieved"]);
        // The classifier mostly separates the two corpora, so the kept pages are about half prose and half mail.
        long proseKept = report.OutputBySource["sotu"] + report.OutputBySource["moby-dick"], mailKept = report.OutputBySource["mail"];
        Assert.InRange((double)mailKept / (mailKept + proseKept), 0.4, 0.6);
        Directory.Delete(root, recursive: true);
    }
}
