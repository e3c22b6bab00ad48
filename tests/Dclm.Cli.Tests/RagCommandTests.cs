using System.Diagnostics;
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

    [Fact]
    public void KillingABuildLeavesThePreviousIndexUsable()
    {
        Assert.Equal(0, DclmProcess.Run("rag", "index", "--input", Docs, "--index", Index).ExitCode);
        string before = DclmProcess.Run("rag", "search", "--index", Index, "--query", "magma", "--mode", "bm25", "--json").Output;
        // Enough small chunks that writing the new generation (BM25, graph, files) takes a moment.
        for (int i = 0; i < 30; i++)
            File.WriteAllText(Path.Combine(Docs, $"extra{i}.txt"), string.Join(' ', Enumerable.Range(0, 60).Select(w => $"topic{i} word{w}")));
        for (int attempt = 0; attempt < 3; attempt++)
        {
            using var child = Start("rag", "index", "--input", Docs, "--index", Index, "--chunk-tokens", "8", "--overlap", "0");
            string generation = Path.Combine(Index, $"g{attempt + 2:D6}");
            var clock = Stopwatch.StartNew();
            while (!Directory.Exists(generation) && !child.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(1);
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            child.WaitForExit();
            if (child.ExitCode == 0) continue; // it finished first: the new index is complete, try again
            var after = DclmProcess.Run("rag", "search", "--index", Index, "--query", "magma", "--mode", "bm25", "--json");
            Assert.Equal(0, after.ExitCode);
            Assert.Equal(before, after.Output);
            // The next build cleans up what the killed one left and publishes a complete index.
            Assert.Equal(0, DclmProcess.Run("rag", "index", "--input", Docs, "--index", Index, "--chunk-tokens", "64", "--overlap", "8").ExitCode);
            Assert.Single(Directory.GetDirectories(Index));
            var rebuilt = DclmProcess.Run("rag", "search", "--index", Index, "--query", "topic7 word3", "--mode", "bm25", "--json");
            Assert.Contains("extra7.txt", rebuilt.Output);
            return;
        }
        Assert.Fail("every build finished before it could be killed");
    }

    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        return process;
    }
}
