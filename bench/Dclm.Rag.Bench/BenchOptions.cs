namespace Dclm.Rag.Bench;

/// <summary>The command and its <c>--name value</c> options.</summary>
internal sealed class BenchOptions(string[] args)
{
    public string Command { get; } = args.Length > 0 ? args[0] : "";

    public string Get(string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    public bool Has(string name) => Array.IndexOf(args, name) >= 0;
}

/// <summary>Small statistics shared by the benchmarks.</summary>
internal static class Stats
{
    /// <summary>The nearest-rank percentile.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The load average and CPU model, written beside every figure.</summary>
    public static string Machine()
    {
        string load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        return $"{cpu}, {Environment.ProcessorCount} logical CPUs, load average {load}";
    }
}
