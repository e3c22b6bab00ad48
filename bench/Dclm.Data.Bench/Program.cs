// Data-pipeline benchmark on real HTML (cppreference + Python docs, packed as WARC by scripts/fetch-corpora.sh):
// single-threaded CPU time per stage and end to end, repeated, medians reported. CPU seconds (this process's user +
// system time) rather than wall seconds, so a machine shared with other jobs still measures our own cost; wall time,
// load average and the CPU model are printed beside them.
//
// Usage: dotnet run -c Release --project bench/Dclm.Data.Bench -- [--input data/raw/warc] [--limit 2000] [--repeat 3]
//        [--model data/work/quality.bin] [--stages-only] [--end-to-end-only] [--keep DIR (keep the end-to-end input and outputs there)]
//        dotnet run -c Release --project bench/Dclm.Data.Bench -- --mail [--fixtures tests/Dclm.Data.Tests/fixtures] [--repeat 7]
//        (our mail reader against MimeKit on the SpamAssassin mail of the data tests)
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dclm.Data.Bench;
using Dclm.Data.Documents;
using Dclm.Data.Inputs;
using Dclm.Data.Pipeline;

if (args.Length > 0 && args[0] == "--child-curate") return EndToEnd.Child(args[1..]);
if (args.Contains("--mail"))
{
    Console.WriteLine($"CPU: {Machine.CpuModel()}; {Environment.ProcessorCount} logical CPUs; load average {Machine.LoadAverage()}");
    int mailResult = MailParsing.Run(Argument("--fixtures") ?? "tests/Dclm.Data.Tests/fixtures", int.Parse(Argument("--repeat") ?? "7", CultureInfo.InvariantCulture));
    Console.WriteLine($"load average at the end: {Machine.LoadAverage()}");
    return mailResult;
}

string input = Argument("--input") ?? "data/raw/warc";
int limit = int.Parse(Argument("--limit") ?? "2000", CultureInfo.InvariantCulture);
int repeat = int.Parse(Argument("--repeat") ?? "3", CultureInfo.InvariantCulture);
string? modelPath = Argument("--model") ?? (File.Exists("data/work/quality.bin") ? "data/work/quality.bin" : null);
var warcs = new[] { "cppreference.warc.gz", "python-docs.warc.gz" }.Select(f => Path.Combine(input, f)).Where(File.Exists).ToList();
if (warcs.Count == 0)
{
    Console.Error.WriteLine($"no cppreference/python-docs WARC under {input}; run scripts/fetch-corpora.sh");
    return 1;
}
Console.WriteLine($"CPU: {Machine.CpuModel()}; {Environment.ProcessorCount} logical CPUs; load average {Machine.LoadAverage()}");
// Interleave the two corpora so any prefix has both kinds of page.
var perFile = warcs.Select(f => InputPlanner.Plan(f).SelectMany(InputUnitReader.Read).Take(limit).ToList()).ToList();
var pages = Enumerable.Range(0, limit).SelectMany(i => perFile.Where(l => i < l.Count).Select(l => l[i])).Take(limit).ToList();
long htmlBytes = pages.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text));
Console.WriteLine($"corpus: {pages.Count} HTML pages, {htmlBytes / 1e6:F1} MB of HTML, from {string.Join(", ", warcs.Select(Path.GetFileName))}");

if (!args.Contains("--end-to-end-only")) StageTimes.Run(pages, htmlBytes, modelPath, repeat);
if (!args.Contains("--stages-only")) EndToEnd.Run(pages, htmlBytes, modelPath, repeat, Argument("--keep"));
Console.WriteLine($"load average at the end: {Machine.LoadAverage()}");
return 0;

string? Argument(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
