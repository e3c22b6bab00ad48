using System.IO.Compression;
using System.Text;
using Dclm.Data.Inputs;
using Dclm.Data.IO;
using Dclm.Data.Pipeline;

namespace Dclm.Data.Tests;

public class InputTests
{
    [Fact]
    public void PlanGroupsHtmlBySourceAndKeepsContainersWhole()
    {
        var root = Fixtures.TemporaryDirectory();
        Directory.CreateDirectory(Path.Combine(root, "site-a", "sub"));
        Directory.CreateDirectory(Path.Combine(root, "site-b"));
        for (int i = 0; i < 3; i++) File.WriteAllText(Path.Combine(root, "site-a", "sub", $"p{i}.html"), $"<p>page {i}</p>");
        File.WriteAllText(Path.Combine(root, "site-b", "index.htm"), "<p>b</p>");
        File.WriteAllText(Path.Combine(root, "site-b", "notes.txt"), "ignored");
        using (var gz = new GZipStream(File.Create(Path.Combine(root, "dump.jsonl.gz")), CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes("{\"text\":\"one\"}\n\n{\"text\":\"two\",\"source\":\"forum\",\"metadata\":{\"WARC-Target-URI\":\"http://f/2\"}}\n"));

        var plan = InputPlanner.Plan(root);
        Assert.Equal(3, plan.Count);
        Assert.Equal((InputKind.Jsonl, "dump"), (plan[0].Kind, plan[0].Source));
        Assert.Equal((InputKind.HtmlFiles, "site-a", 3), (plan[1].Kind, plan[1].Source, plan[1].Files.Count));
        Assert.Equal((InputKind.HtmlFiles, "site-b", 1), (plan[2].Kind, plan[2].Source, plan[2].Files.Count));

        var jsonl = InputUnitReader.Read(plan[0]).ToList();
        Assert.Equal(["one", "two"], jsonl.Select(d => d.Text));
        Assert.Equal(["dump", "forum"], jsonl.Select(d => d.Source));
        Assert.Equal("http://f/2", jsonl[1].Url);
        Assert.Equal("dump.jsonl.gz:1", jsonl[0].Id);
        var html = InputUnitReader.Read(plan[1]).ToList();
        Assert.All(html, d => Assert.True(d.IsHtml));
        Assert.Equal("site-a/sub/p0.html", html[0].Id);
    }

    [Fact]
    public void ShardsPartitionUnitsByIndex()
    {
        var shards = Enumerable.Range(0, 3).Select(i => ShardSpec.Parse($"{i}/3")).ToList();
        for (int unit = 0; unit < 20; unit++) Assert.Single(shards, s => s.Owns(unit));
        Assert.Throws<ArgumentException>(() => ShardSpec.Parse("3/3"));
        Assert.Throws<ArgumentException>(() => ShardSpec.Parse("a/b"));
    }

    [Theory]
    [InlineData("{\"text\": 5}\n", "string \"text\"")]
    [InlineData("not json\n", "invalid JSON")]
    [InlineData("[1,2]\n", "JSON object")]
    public void BadJsonlLinesNameFileAndLine(string content, string expected)
    {
        var path = Path.Combine(Fixtures.TemporaryDirectory(), "bad.jsonl");
        File.WriteAllText(path, "{\"text\":\"fine\"}\n" + content);
        var error = Assert.Throws<InvalidDataException>(() => DocumentJsonl.ReadFile(path, "s").ToList());
        Assert.Contains("bad.jsonl:2", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void TruncatedZstdIsReportedNotCrashed()
    {
        var path = Path.Combine(Fixtures.TemporaryDirectory(), "cut.jsonl.zst");
        File.WriteAllBytes(path, File.ReadAllBytes(Fixtures.PathOf("prose.jsonl.zst"))[..5000]);
        var error = Assert.Throws<InvalidDataException>(() => DocumentJsonl.ReadFile(path, "s").ToList());
        Assert.Contains("cut.jsonl.zst", error.Message);
    }

    [Fact]
    public void RerunIntoAnOutputMadeFromOtherInputIsRefused()
    {
        var root = Fixtures.TemporaryDirectory();
        var inputA = Path.Combine(root, "a");
        Directory.CreateDirectory(inputA);
        File.WriteAllText(Path.Combine(inputA, "x.jsonl"), "{\"text\":\"hello\"}\n");
        var output = Path.Combine(root, "out");
        var config = new PipelineConfig { Language = { Enabled = false }, Quality = { Enabled = false } };
        CurationRunner.Run(config, new CurationOptions(inputA, output));
        File.WriteAllText(Path.Combine(inputA, "y.jsonl"), "{\"text\":\"more\"}\n");
        var error = Assert.Throws<InvalidOperationException>(() => CurationRunner.Run(config, new CurationOptions(inputA, output)));
        Assert.Contains("different input", error.Message);
    }
}
