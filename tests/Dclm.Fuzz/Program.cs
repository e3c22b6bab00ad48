using System.Diagnostics;
using System.Globalization;
using Dclm.Fuzz.Targets;

namespace Dclm.Fuzz;

/// <summary>
/// <c>dotnet run -c Release --project tests/Dclm.Fuzz -- [--targets gguf,safetensors,...] [--cases 5000] [--seed 23]
/// [--first-case 0] [--time-limit-ms 2000] [--hang-limit-s 60] [--save DIR]</c>: runs N mutated cases per target and
/// prints, per target, how many were accepted and cleanly refused, the unexpected exceptions (by type, with the
/// first case that raised each), hangs, cases over the time limit, the slowest case, the largest allocation of
/// one case and the process's peak working set. Exit code 1 when anything unexpected or a hang was found.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var options = Options.Parse(args);
        string seeds = Path.Combine(AppContext.BaseDirectory, "seeds");
        var runner = new FuzzRunner(TimeSpan.FromMilliseconds(options.TimeLimitMilliseconds), TimeSpan.FromSeconds(options.HangLimitSeconds), options.SaveFolder, Console.Out);
        Console.WriteLine($"dclm fuzz: {options.Cases} cases per target, seed {options.Seed}, time limit {options.TimeLimitMilliseconds} ms, "
            + $"{Environment.ProcessorCount} cores, {RuntimeInfo()}");
        var reports = new List<TargetReport>();
        foreach (string name in options.Targets)
        {
            using var target = Create(name, seeds);
            Console.WriteLine($"{name}: running");
            var report = runner.Run(target, options.Cases, options.Seed, options.FirstCase);
            reports.Add(report);
            Print(report, Console.Out);
        }
        Console.WriteLine();
        Console.WriteLine(Table(reports));
        return reports.All(report => report.Clean) ? 0 : 1;
    }

    public static readonly string[] AllTargets = ["gguf", "safetensors", "tokenizer-json", "warc", "jsonl-zst", "jinja", "http"];

    public static FuzzTarget Create(string name, string seedFolder) => name switch
    {
        "gguf" => new GgufTarget(seedFolder),
        "safetensors" => new SafetensorsTarget(),
        "tokenizer-json" => new TokenizerJsonTarget(),
        "warc" => new WarcTarget(),
        "jsonl-zst" => new JsonlZstTarget(),
        "jinja" => new JinjaTarget(seedFolder),
        "http" => new HttpBodyTarget(seedFolder),
        _ => throw new ArgumentException($"unknown target '{name}'; the targets are {string.Join(", ", AllTargets)}"),
    };

    public static void Print(TargetReport report, TextWriter output)
    {
        output.WriteLine($"{report.Target}: {report.Cases} cases in {report.TotalSeconds:0.0} s: {report.Accepted} accepted, {report.Refused} refused cleanly ({report.ExpectedErrors}), "
            + $"{report.UnexpectedCount} unexpected, {report.Hangs.Count} hangs, {report.OverTimeLimit.Count} over the time limit; "
            + $"slowest case {report.SlowestCase} in {report.SlowestMilliseconds:0} ms, largest allocation {report.LargestAllocation / 1048576.0:0.0} MiB (case {report.LargestAllocationCase}), "
            + $"peak working set {report.PeakWorkingSet / 1048576.0:0} MiB");
        foreach (var (kind, (count, first)) in report.Unexpected) output.WriteLine($"  unexpected ×{count} (first case {first}): {kind}");
        if (report.Hangs.Count > 0) output.WriteLine($"  hangs: cases {string.Join(", ", report.Hangs.Take(20))}");
        if (report.OverTimeLimit.Count > 0) output.WriteLine($"  over the time limit: cases {string.Join(", ", report.OverTimeLimit.Take(20))}");
    }

    /// <summary>The summary as a Markdown table, as docs/hardening.md shows it.</summary>
    public static string Table(IEnumerable<TargetReport> reports)
    {
        var lines = new List<string>
        {
            "| target | cases | accepted | refused cleanly | unexpected | hangs | over limit | slowest case | largest allocation | peak working set |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var r in reports)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Target} | {r.Cases} | {r.Accepted} | {r.Refused} | {r.UnexpectedCount} | {r.Hangs.Count} | {r.OverTimeLimit.Count} | {r.SlowestMilliseconds:0} ms | {r.LargestAllocation / 1048576.0:0.0} MiB | {r.PeakWorkingSet / 1048576.0:0} MiB |"));
        return string.Join(Environment.NewLine, lines);
    }

    private static string RuntimeInfo() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    private sealed record Options(string[] Targets, int Cases, int Seed, int FirstCase, int TimeLimitMilliseconds, int HangLimitSeconds, string? SaveFolder)
    {
        public static Options Parse(string[] args)
        {
            var options = new Options(AllTargets, 5000, 23, 0, 2000, 60, null);
            for (int i = 0; i < args.Length; i++)
            {
                string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
                options = args[i] switch
                {
                    "--targets" => options with { Targets = value == "all" ? AllTargets : value.Split(',') },
                    "--cases" => options with { Cases = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--seed" => options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--first-case" => options with { FirstCase = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--time-limit-ms" => options with { TimeLimitMilliseconds = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--hang-limit-s" => options with { HangLimitSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--save" => options with { SaveFolder = value },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
                i++;
            }
            return options;
        }
    }
}
