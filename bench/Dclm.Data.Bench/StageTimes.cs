using System.Diagnostics;
using System.Text;
using Dclm.Data.Dedup;
using Dclm.Data.Documents;
using Dclm.Data.FastText;
using Dclm.Data.Pipeline;
using Dclm.Data.Quality;

namespace Dclm.Data.Bench;

/// <summary>
/// Each stage alone, on one thread, over the pages that survive the stages before it: CPU seconds (median of the
/// repeats) and what share of the HTML-per-second budget it takes.
/// </summary>
internal static class StageTimes
{
    private sealed record Row(string Name, int Documents, long Bytes, double CpuSeconds, double WallSeconds);

    public static void Run(List<Document> pages, long htmlBytes, string? modelPath, int repeat)
    {
        var config = new PipelineConfig();
        var rows = new List<Row>();
        List<Document> current = pages;
        foreach (var stage in LocalStages.Build(config))
        {
            var (row, survivors) = Measure(stage.Name, current, repeat, documents =>
            {
                var keep = new List<Document>();
                var statistics = stage.NewStatistics();
                foreach (var d in documents) if (stage.Run(d, statistics)) keep.Add(d);
                return keep;
            });
            rows.Add(row);
            current = survivors;
        }
        rows.Add(Measure("bff_dedup", current, repeat, documents =>
        {
            var filter = BloomFilter.Create(Math.Max(1024, documents.Sum(d => BffDeduplicator.CountNgrams(d.Text, 13, 13))), 0.01, 1L << 30);
            var bff = new BffDeduplicator(filter, 13, 13, 0.8);
            foreach (var d in documents) d.Text = bff.Process(d.Text).Text;
            return documents;
        }).Row);
        if (modelPath is not null)
        {
            var scorer = new QualityScorer(FastTextModels.Shared(modelPath));
            rows.Add(Measure("quality_score", current, repeat, documents =>
            {
                foreach (var d in documents) d.QualityScore = scorer.Score(d.Text);
                return documents;
            }).Row);
        }
        double total = rows.Sum(r => r.CpuSeconds);
        Console.WriteLine();
        Console.WriteLine($"one thread, median of {repeat}; MB/s of HTML = the corpus's HTML bytes over the stage's CPU seconds");
        Console.WriteLine($"{"stage",-14} {"docs in",8} {"MB in",8} {"CPU s",8} {"wall s",8} {"MB HTML/CPU s",14} {"share",7}");
        foreach (var row in rows)
            Console.WriteLine($"{row.Name,-14} {row.Documents,8} {row.Bytes / 1e6,8:F1} {row.CpuSeconds,8:F3} {row.WallSeconds,8:F3} {htmlBytes / 1e6 / row.CpuSeconds,14:F1} {row.CpuSeconds / total,7:P1}");
        Console.WriteLine($"{"all stages",-14} {pages.Count,8} {htmlBytes / 1e6,8:F1} {total,8:F3} {rows.Sum(r => r.WallSeconds),8:F3} {htmlBytes / 1e6 / total,14:F1} {1,7:P0}");
    }

    private static (Row Row, List<Document> Survivors) Measure(string name, List<Document> documents, int repeat, Func<List<Document>, List<Document>> work)
    {
        // Warm up (JIT, lazy tables) on a few documents so the first repeat is not charged for it.
        work(documents.Take(20).Select(Copy).ToList());
        var cpu = new List<double>();
        var wall = new List<double>();
        List<Document> survivors = [];
        for (int r = 0; r < repeat; r++)
        {
            var copies = documents.Select(Copy).ToList();
            GC.Collect();
            double before = Machine.CpuSeconds();
            var watch = Stopwatch.StartNew();
            survivors = work(copies);
            wall.Add(watch.Elapsed.TotalSeconds);
            cpu.Add(Machine.CpuSeconds() - before);
        }
        long bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text));
        return (new Row(name, documents.Count, bytes, Machine.Median(cpu), Machine.Median(wall)), survivors);
    }

    private static Document Copy(Document d) => new(d.Id, d.Url, d.Source, d.Text) { IsHtml = d.IsHtml };
}
