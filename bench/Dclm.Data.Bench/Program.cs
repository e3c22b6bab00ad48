// Data-pipeline benchmark: documents/s and MB/s per stage and for the whole pipeline, at 1 and 2 threads,
// on the real HTML corpora (run scripts/fetch-corpora.sh first).
// Usage: dotnet run -c Release --project bench/Dclm.Data.Bench -- [--input data/raw/warc] [--limit 1500] [--tokenizer FILE]
using System.Diagnostics;
using System.Text;
using Dclm.Data.Dedup;
using Dclm.Data.Documents;
using Dclm.Data.Inputs;
using Dclm.Data.Pipeline;

string input = Argument("--input") ?? "data/raw/warc";
int limit = int.Parse(Argument("--limit") ?? "1500");
string? tokenizerPath = Argument("--tokenizer");
var htmlFiles = new[] { "cppreference.warc.gz", "python-docs.warc.gz" }.Select(f => Path.Combine(input, f)).Where(File.Exists).ToList();
if (htmlFiles.Count == 0)
{
    Console.Error.WriteLine($"no cppreference/python-docs WARC under {input}; run scripts/fetch-corpora.sh");
    return 1;
}
var raw = htmlFiles.SelectMany(f => InputPlanner.Plan(f)).SelectMany(InputUnitReader.Read).Take(limit).ToList();
Console.WriteLine($"corpus: {raw.Count} HTML pages, {Bytes(raw) / 1e6:F1} MB, from {string.Join(", ", htmlFiles.Select(Path.GetFileName))}");
Console.WriteLine($"{"stage",-14} {"threads",7} {"docs in",8} {"seconds",8} {"docs/s",9} {"MB/s",7} {"speedup",8}");

var config = new PipelineConfig();
var stages = LocalStages.Build(config).ToList();
var afterStage = new Dictionary<string, List<Document>>();
List<Document> current = raw;
foreach (var stage in stages)
{
    double? single = null;
    List<Document> survivors = [];
    // Warm up (JIT, lazy tables) on a few documents so the 1-thread row is not charged for it.
    foreach (var document in current.Take(20).Select(Copy)) stage.Run(document, new StageStatistics());
    foreach (int threads in new[] { 1, 2 })
    {
        var copies = current.Select(Copy).ToList();
        var keep = new bool[copies.Count];
        var statistics = Enumerable.Range(0, copies.Count).Select(_ => new StageStatistics()).ToArray();
        var watch = Stopwatch.StartNew();
        Parallel.For(0, copies.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => keep[i] = stage.Run(copies[i], statistics[i]));
        double seconds = watch.Elapsed.TotalSeconds;
        Print(stage.Name, threads, copies.Count, Bytes(current), seconds, ref single);
        survivors = copies.Where((_, i) => keep[i]).ToList();
    }
    afterStage[stage.Name] = survivors;
    current = survivors;
}

// BFF dedup is sequential by definition (first copy wins), so it runs on one thread.
{
    double? single = null;
    var filter = BloomFilter.Create(Math.Max(1024, current.Sum(d => BffDeduplicator.CountNgrams(d.Text, 13, 13))), 0.01, 1L << 30);
    var bff = new BffDeduplicator(filter, 13, 13, 0.8);
    var watch = Stopwatch.StartNew();
    foreach (var document in current) bff.Process(document.Text);
    Print("bff_dedup", 1, current.Count, Bytes(current), watch.Elapsed.TotalSeconds, ref single);
}

// Quality scoring with a fastText bigram model (DCLM's settings, fewer buckets) trained on survivors vs raw pages.
var qualityModel = Dclm.Data.Quality.ClassifierTraining.Train(current.Take(200).Select(d => d.Text).ToList(), raw.Take(200).Select(d => d.Text).ToList(),
    new Dclm.Data.Quality.ClassifierTrainingOptions { FastText = new() { Buckets = 200_000 }, HeldOutFraction = 0 }).Model;
{
    var model = new Dclm.Data.Quality.QualityScorer(qualityModel);
    foreach (var document in current.Take(20)) model.Score(document.Text);
    double? single = null;
    foreach (int threads in new[] { 1, 2 })
    {
        var watch = Stopwatch.StartNew();
        Parallel.For(0, current.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => model.Score(current[i].Text));
        Print("quality_score", threads, current.Count, Bytes(current), watch.Elapsed.TotalSeconds, ref single);
    }
}

if (tokenizerPath is not null)
{
    var tokenizer = Dclm.Tokenizers.Tokenizer.Load(tokenizerPath);
    foreach (var document in current.Take(20)) tokenizer.Encode(document.Text);
    double? single = null;
    foreach (int threads in new[] { 1, 2 })
    {
        var watch = Stopwatch.StartNew();
        Parallel.For(0, current.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => tokenizer.Encode(current[i].Text));
        Print("tokenize", threads, current.Count, Bytes(current), watch.Elapsed.TotalSeconds, ref single);
    }
}

// The whole pipeline through the real runner (local stages in parallel over input units, then global stages).
{
    var scratch = Path.Combine(Path.GetTempPath(), "dclm-data-bench-" + Environment.ProcessId);
    var inputDirectory = Path.Combine(scratch, "input");
    Directory.CreateDirectory(inputDirectory);
    // Split the pages into 8 WARC files (HTTP response records) so the runner has parallel units.
    for (int u = 0; u < 8; u++)
    {
        using var file = File.Create(Path.Combine(inputDirectory, $"unit-{u}.warc.gz"));
        using var writer = new Dclm.Data.Warc.WarcWriter(file, gzipPerRecord: true);
        foreach (var page in raw.Where((_, i) => i % 8 == u))
        {
            var body = Encoding.UTF8.GetBytes(page.Text);
            var header = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
            writer.Write("response", page.Url, "application/http; msgtype=response", [.. header, .. body], DateTime.UnixEpoch);
        }
    }
    var modelPath = Path.Combine(scratch, "quality.bin");
    using (var modelFile = File.Create(modelPath)) qualityModel.Save(modelFile);
    config.Quality.Model = modelPath;
    double? single = null;
    foreach (int threads in new[] { 1, 2 })
    {
        var output = Path.Combine(scratch, $"out-{threads}");
        var watch = Stopwatch.StartNew();
        CurationRunner.Run(config, new CurationOptions(inputDirectory, output) { Threads = threads });
        Print("pipeline", threads, raw.Count, Bytes(raw), watch.Elapsed.TotalSeconds, ref single);
    }
    Directory.Delete(scratch, recursive: true);
}
return 0;

static long Bytes(IEnumerable<Document> documents) => documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text));

static Document Copy(Document d) => new(d.Id, d.Url, d.Source, d.Text) { IsHtml = d.IsHtml };

static void Print(string name, int threads, int documents, long bytes, double seconds, ref double? single)
{
    single ??= seconds;
    Console.WriteLine($"{name,-14} {threads,7} {documents,8} {seconds,8:F2} {documents / seconds,9:F1} {bytes / 1e6 / seconds,7:F2} {single.Value / seconds,7:F2}x");
}

string? Argument(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
