using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dclm.Data.Documents;
using Dclm.Data.Pipeline;
using Dclm.Data.Warc;

namespace Dclm.Data.Bench;

/// <summary>
/// The whole pipeline through the real runner (<see cref="CurationRunner"/>, one thread: read WARC, every local stage,
/// parts written, then BFF, quality and documents), in a child process so its peak resident memory is its own.
/// </summary>
internal static class EndToEnd
{
    public static void Run(List<Document> pages, long htmlBytes, string? modelPath, int repeat, string? keep = null)
    {
        var scratch = keep ?? Path.Combine(Path.GetTempPath(), "dclm-data-bench-" + Environment.ProcessId);
        var inputDirectory = Path.Combine(scratch, "input");
        Directory.CreateDirectory(inputDirectory);
        // Eight WARC files of HTTP response records (gzip per record, as Common Crawl writes them).
        for (int u = 0; u < 8; u++)
        {
            using var file = File.Create(Path.Combine(inputDirectory, $"unit-{u}.warc.gz"));
            using var writer = new WarcWriter(file, gzipPerRecord: true);
            foreach (var page in pages.Where((_, i) => i % 8 == u))
            {
                var body = Encoding.UTF8.GetBytes(page.Text);
                var header = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
                writer.Write("response", page.Url, "application/http; msgtype=response", [.. header, .. body], DateTime.UnixEpoch);
            }
        }
        var config = Path.Combine(scratch, "pipeline.yaml");
        File.WriteAllText(config, modelPath is null ? "quality:\n  enabled: false\n" : $"quality:\n  model: {Path.GetFullPath(modelPath)}\n");
        var results = new List<JsonElement>();
        for (int r = 0; r < repeat; r++)
        {
            var output = Path.Combine(scratch, $"out-{r}");
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(EndToEnd).Assembly.Location);
            foreach (var a in new[] { "--child-curate", inputDirectory, output, config }) start.ArgumentList.Add(a);
            using var child = Process.Start(start)!;
            string json = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            if (child.ExitCode != 0) throw new InvalidOperationException($"end-to-end child failed ({child.ExitCode})");
            results.Add(JsonDocument.Parse(json).RootElement.Clone());
        }
        if (keep is null) Directory.Delete(scratch, recursive: true);
        double cpu = Machine.Median(results.Select(r => r.GetProperty("cpu_seconds").GetDouble()));
        double wall = Machine.Median(results.Select(r => r.GetProperty("wall_seconds").GetDouble()));
        double peak = results.Max(r => r.GetProperty("peak_resident_bytes").GetDouble());
        Console.WriteLine();
        Console.WriteLine($"end to end (dclm data curate --threads 1, {pages.Count} pages, {htmlBytes / 1e6:F1} MB of HTML in 8 WARC files), median of {repeat}:");
        Console.WriteLine($"  CPU {cpu:F2} s -> {htmlBytes / 1e6 / cpu:F1} MB of HTML per CPU second; wall {wall:F2} s -> {htmlBytes / 1e6 / wall:F1} MB/s; " +
                          $"peak resident {peak / (1 << 20):F0} MiB; runs: {string.Join(", ", results.Select(r => r.GetProperty("cpu_seconds").GetDouble().ToString("F2", CultureInfo.InvariantCulture)))} CPU s");
    }

    private sealed class SynchronousProgress(Action<CurationProgress> report) : IProgress<CurationProgress>
    {
        public void Report(CurationProgress value) => report(value);
    }

    /// <summary>The child: one curate run, then its CPU time, wall time and peak memory as JSON on stdout.</summary>
    public static int Child(string[] args)
    {
        double cpuAtStart = Machine.CpuSeconds();
        var config = PipelineConfigLoader.Load(args[2]);
        var watch = Stopwatch.StartNew();
        var phases = new SortedDictionary<string, double>();
        var progress = new SynchronousProgress(p => phases[p.Phase] = Machine.CpuSeconds() - cpuAtStart);
        CurationRunner.Run(config, new CurationOptions(args[0], args[1]) { Threads = 1 }, progress);
        foreach (var (phase, cpu) in phases) Console.Error.WriteLine($"  cpu at the last '{phase}' report: {cpu:F2} s");
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            cpu_seconds = Machine.CpuSeconds() - cpuAtStart, wall_seconds = watch.Elapsed.TotalSeconds, peak_resident_bytes = Machine.PeakResidentBytes(),
        }));
        return 0;
    }
}
