using System.Diagnostics;
using System.Text.Json.Nodes;
using Dclm.Data.IO;
using Dclm.Data.Pipeline;

namespace Dclm.Data.Tests;

public class PipelineTests(PipelineCorpus corpus) : IClassFixture<PipelineCorpus>
{
    private static readonly object ReferenceLock = new();
    private static string? _reference;

    /// <summary>One uninterrupted single-process run that the other tests compare against.</summary>
    private string Reference()
    {
        lock (ReferenceLock)
        {
            if (_reference is not null && Directory.Exists(_reference)) return _reference;
            var output = Path.Combine(corpus.Root, "reference");
            CurationRunner.Run(PipelineConfigLoader.Load(corpus.ConfigPath), new CurationOptions(corpus.Input, output) { Threads = 2 });
            return _reference = output;
        }
    }

    [Fact]
    public void EndToEndWritesDocumentsReportAndPlots()
    {
        var output = Reference();
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "report.json")))!;
        var stages = report["stages"]!.AsArray();
        var names = stages.Select(s => (string)s!["name"]!).ToList();
        Assert.Equal(["read", "url_filter", "extract", "language", "heuristics", "exact_dedup", "bff_dedup", "quality_score", "quality_filter", "mixing"], names);
        for (int i = 0; i < stages.Count; i++)
        {
            var stage = stages[i]!;
            long docsIn = (long)stage["docs_in"]!, docsOut = (long)stage["docs_out"]!;
            long removed = stage["removed_by"]!.AsObject().Sum(kv => (long)kv.Value!);
            if (names[i] != "mixing") Assert.Equal(docsIn - docsOut, removed);
            if (i > 0 && names[i] != "read") Assert.Equal((long)stages[i - 1]!["docs_out"]!, docsIn);
        }
        Assert.Equal(corpus.Documents, (long)stages[0]!["docs_in"]!);
        Assert.True((long)stages.Single(s => (string)s!["name"]! == "exact_dedup")!["removed_by"]!["exact_duplicate"]! >= 1);
        Assert.True((long)stages.Single(s => (string)s!["name"]! == "bff_dedup")!["docs_out"]! < (long)stages.Single(s => (string)s!["name"]! == "bff_dedup")!["docs_in"]!);

        var documents = ReadDocuments(output);
        Assert.Equal((long)stages[^1]!["docs_out"]!, documents.Count);
        Assert.All(documents, d => Assert.False(string.IsNullOrWhiteSpace((string)d["text"]!)));
        Assert.Contains(documents, d => (string)d["source"]! == "cppreference");
        Assert.Equal(documents.Count, documents.Select(d => (string)d["id"]!).Distinct().Count());

        var funnel = Path.Combine(output, "plots", "funnel.png");
        Assert.True(File.Exists(funnel));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(funnel)[..4]);
        Assert.True(File.Exists(Path.Combine(output, "plots", "removed-heuristics.png")));
    }

    [Fact]
    public void KilledChildProcessResumesToTheUninterruptedResult()
    {
        var reference = Reference();
        var output = Path.Combine(corpus.Root, "killed");
        using (var child = StartHost(output, "0/1", "all", threads: 1))
        {
            // Kill as soon as the child reports finished units, i.e. mid-way through the local phase.
            string? line;
            while ((line = child.StandardOutput.ReadLine()) is not null)
            {
                if (line.StartsWith("[local] ") && int.Parse(line[8..].Split('/')[0]) >= 3) break;
            }
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        int finished = Directory.EnumerateFiles(LocalPhase.PartsDirectory(output), "*.stats.json").Count();
        Assert.InRange(finished, 3, corpus.Units - 1);
        Assert.False(File.Exists(Path.Combine(output, "report.json")));

        RunHostToCompletion(output, "0/1", "all");
        AssertSameResult(reference, output);
    }

    [Fact]
    public void ThreeShardProcessesEqualTheSingleProcessRun()
    {
        var reference = Reference();
        var output = Path.Combine(corpus.Root, "sharded");
        var shards = Enumerable.Range(0, 3).Select(i => StartHost(output, $"{i}/3", "local", threads: 1)).ToList();
        foreach (var shard in shards) WaitForSuccess(shard);
        Assert.False(File.Exists(Path.Combine(output, "report.json")));
        RunHostToCompletion(output, "0/1", "global");
        AssertSameResult(reference, output);
    }

    [Fact]
    public void ThreeBffPartitionProcessesEqualTheInProcessPartitionedRun()
    {
        var config = Path.Combine(corpus.Root, "partitioned.yaml");
        File.WriteAllText(config, File.ReadAllText(corpus.ConfigPath) + "\ndedup:\n  bff:\n    partitions: 3\n");
        var inProcess = Path.Combine(corpus.Root, "partitioned-reference");
        CurationRunner.Run(PipelineConfigLoader.Load(config), new CurationOptions(corpus.Input, inProcess) { Threads = 2 });

        var output = Path.Combine(corpus.Root, "partitioned");
        RunHostToCompletion(output, "0/1", "local", config);
        var workers = Enumerable.Range(0, 3).Select(p => StartHost(output, "0/1", "dedup", threads: 1, config, $"{p}/3")).ToList();
        foreach (var worker in workers) WaitForSuccess(worker);
        Assert.Equal(3, Directory.EnumerateFiles(Path.Combine(output, "global"), "bff-partition-*.bin").Count());
        RunHostToCompletion(output, "0/1", "global", config);
        AssertSameResult(inProcess, output);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "report.json")))!;
        var bff = report["stages"]!.AsArray().Single(s => (string)s!["name"]! == "bff_dedup")!;
        Assert.True((long)bff["docs_out"]! < (long)bff["docs_in"]!);
    }

    [Fact]
    public void CancelledRunResumesToTheUninterruptedResult()
    {
        var reference = Reference();
        var output = Path.Combine(corpus.Root, "cancelled");
        var config = PipelineConfigLoader.Load(corpus.ConfigPath);
        using var cancellation = new CancellationTokenSource();
        // Cancel deterministically once five units have finished, as Ctrl+C would.
        var progress = new CancelAfter(cancellation, "local", 5);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            CurationRunner.Run(config, new CurationOptions(corpus.Input, output) { Threads = 1 }, progress, cancellation.Token));
        Assert.InRange(Directory.EnumerateFiles(LocalPhase.PartsDirectory(output), "*.stats.json").Count(), 5, corpus.Units - 1);
        Assert.Empty(Directory.EnumerateFiles(LocalPhase.PartsDirectory(output), ".*.tmp"));
        CurationRunner.Run(config, new CurationOptions(corpus.Input, output) { Threads = 2 });
        AssertSameResult(reference, output);
    }

    private sealed class CancelAfter(CancellationTokenSource source, string phase, int done) : IProgress<CurationProgress>
    {
        public void Report(CurationProgress value)
        {
            if (value.Phase == phase && value.Done >= done) source.Cancel();
        }
    }

    [Fact]
    public void GlobalPhaseRefusesToRunBeforeAllShardsFinish()
    {
        var output = Path.Combine(corpus.Root, "partial");
        var config = PipelineConfigLoader.Load(corpus.ConfigPath);
        CurationRunner.Run(config, new CurationOptions(corpus.Input, output) { Shard = ShardSpec.Parse("1/4"), Phase = CurationPhase.Local });
        var error = Assert.Throws<InvalidOperationException>(() => CurationRunner.Run(config, new CurationOptions(corpus.Input, output) { Phase = CurationPhase.Global }));
        Assert.Contains("not processed yet", error.Message);
    }

    private static List<JsonNode> ReadDocuments(string output) =>
        Directory.EnumerateFiles(Path.Combine(output, "documents"), "*.jsonl.zst").Order(StringComparer.Ordinal)
            .SelectMany(ReadLines).Select(l => JsonNode.Parse(l)!).ToList();

    private static IEnumerable<string> ReadLines(string path)
    {
        using var reader = new StreamReader(CompressedFile.OpenRead(path));
        while (reader.ReadLine() is { } line) yield return line;
    }

    /// <summary>
    /// The outputs are byte-identical: documents, report.json, the plan and every stats file (timings live in their own
    /// files, which differ between runs and are only checked to exist).
    /// </summary>
    private static void AssertSameResult(string expected, string actual)
    {
        static List<string> Outputs(string root) => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => f.StartsWith("documents", StringComparison.Ordinal) || f.EndsWith(".stats.json", StringComparison.Ordinal) || f is "report.json" or "plan.json")
            .Order(StringComparer.Ordinal).ToList();
        var files = Outputs(expected);
        Assert.Equal(files, Outputs(actual));
        Assert.Contains("report.json", files);
        foreach (var file in files) Assert.True(File.ReadAllBytes(Path.Combine(expected, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, file))), $"{file} differs");
        Assert.DoesNotContain("seconds", File.ReadAllText(Path.Combine(actual, "report.json")));
        var timings = JsonNode.Parse(File.ReadAllText(Path.Combine(actual, "timings.json")))!;
        Assert.Contains(timings["stages"]!.AsArray(), s => (string)s!["name"]! == "extract" && (double)s!["seconds"]! > 0);
    }

    private Process StartHost(string output, string shard, string phase, int threads, string? config = null, string? partition = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { HostPath(), config ?? corpus.ConfigPath, corpus.Input, output, shard, phase, threads.ToString(), partition ?? "0/1" }) info.ArgumentList.Add(argument);
        return Process.Start(info)!;
    }

    private void RunHostToCompletion(string output, string shard, string phase, string? config = null) =>
        WaitForSuccess(StartHost(output, shard, phase, threads: 2, config));

    private static void WaitForSuccess(Process process)
    {
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stderr.GetAwaiter().GetResult());
        }
    }

    /// <summary>CurateHost.dll, built next to the tests (artifacts layout) or in its own bin folder.</summary>
    private static string HostPath()
    {
        var baseDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var configuration = Path.GetFileName(baseDirectory);
        string[] candidates =
        [
            Path.Combine(baseDirectory, "..", "..", "CurateHost", configuration, "CurateHost.dll"),
            Path.Combine(baseDirectory, "..", "..", "..", "CurateHost", "bin", Path.GetFileName(Path.GetDirectoryName(baseDirectory)!), configuration, "CurateHost.dll"),
        ];
        return candidates.Select(Path.GetFullPath).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"CurateHost.dll not found near {baseDirectory}");
    }
}
