namespace Dclm.Benchmarks;

/// <summary>
/// Rates over repetitions: the median (what the tables and ratios use: on a shared machine one repetition that lost
/// its core for a while moves a mean but not a median), the range, and mean ± standard deviation as llama-bench prints them.
/// </summary>
public sealed record Measurement(double Median, double Minimum, double Maximum, double Mean, double StandardDeviation, int Repetitions)
{
    /// <summary>No repetitions: a test that was skipped.</summary>
    public static Measurement None { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>Summarises per-repetition rates (none gives <see cref="None"/>).</summary>
    public static Measurement Of(IReadOnlyList<double> rates)
    {
        if (rates.Count == 0) return None;
        double mean = rates.Average();
        double variance = rates.Count > 1 ? rates.Sum(r => (r - mean) * (r - mean)) / (rates.Count - 1) : 0;
        return new Measurement(MedianOf(rates), rates.Min(), rates.Max(), mean, Math.Sqrt(variance), rates.Count);
    }

    /// <summary>The middle value, or the mean of the two middle ones; 0 for none.</summary>
    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>"43.17 [42.60-44.91]": the median and the range.</summary>
    public override string ToString() => Repetitions == 0 ? "-" : Repetitions == 1 ? $"{Median:F2}" : $"{Median:F2} [{Minimum:F2}-{Maximum:F2}]";
}

/// <summary>One engine's results.</summary>
public sealed record EngineResult(string Engine, Measurement PromptTokensPerSecond, Measurement GenerationTokensPerSecond, double ResidentMegabytes)
{
    /// <summary>
    /// Process CPU time (all threads) per prompt token, the median over repetitions: on a machine shared with other
    /// work this counts only the work done, not time spent waiting for a core. Threads that spin-wait count too.
    /// </summary>
    public double PromptCpuMillisecondsPerToken { get; init; }

    /// <summary>Process CPU time (all threads) per generated token; see <see cref="PromptCpuMillisecondsPerToken"/>.</summary>
    public double GenerationCpuMillisecondsPerToken { get; init; }
}
