using System.Text.Json;

namespace Dclm.Cli.Tests;

/// <summary>dclm embed and dclm rag as users run them, including a build killed half-way.</summary>
public sealed class RagCommandTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("dclm-cli-rag-").FullName;
    private string Docs => Path.Combine(folder, "docs");
    private string Index => Path.Combine(folder, "my.index");

    public RagCommandTests()
    {
        Directory.CreateDirectory(Docs);
        File.WriteAllText(Path.Combine(Docs, "volcanoes.txt"), "Volcanoes erupt when magma rises through the crust.");
        File.WriteAllText(Path.Combine(Docs, "tides.md"), "Ocean tides are caused by the gravitational pull of the moon.");
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void EmbedPrintsUnitVectorsAsJson()
    {
        var result = DclmProcess.Run("embed", "--text", "hello world", "--text", "second", "--json");
        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Output);
        Assert.Equal("all-MiniLM-L6-v2", document.RootElement.GetProperty("model").GetString());
        var data = document.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        var vector = data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(384, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => v * v)), 4);
        // The first values of all-MiniLM-L6-v2's "hello world", as sentence-transformers prints them.
        Assert.Equal(-0.0345, vector[0], 3);
        Assert.Equal(0.0310, vector[1], 3);
    }

    [Fact]
    public void SearchJsonIsAnArrayOfSourceChunkTextScore()
    {
        Assert.Equal(0, DclmProcess.Run("rag", "index", "--input", Docs, "--index", Index).ExitCode);
        var result = DclmProcess.Run("rag", "search", "--index", Index, "--query", "what pulls the tides", "--top-k", "2", "--json");
        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Output);
        var hits = document.RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, hits.Length);
        Assert.Equal(["chunk", "score", "source", "text"], hits[0].EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(Path.Combine(Docs, "tides.md"), hits[0].GetProperty("source").GetString());
        Assert.Equal(0, hits[0].GetProperty("chunk").GetInt32());
        Assert.True(hits[0].GetProperty("score").GetDouble() >= hits[1].GetProperty("score").GetDouble());
    }

    [Fact]
    public void AMissingIndexIsOneLineOfError()
    {
        var result = DclmProcess.Run("rag", "search", "--index", Path.Combine(folder, "absent.index"), "--query", "x");
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("absent.index", result.Error);
    }

    [Fact]
    public void AnUnreadableFileIsNamedAndTheRestIndexed()
    {
        File.WriteAllBytes(Path.Combine(Docs, "garbage.txt"), [0xff, 0xfe, 0xfd]);
        var result = DclmProcess.Run("rag", "index", "--input", Docs, "--index", Index);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("garbage.txt", result.Error);
        Assert.Contains("indexed 2 files", result.Output);
    }
}
