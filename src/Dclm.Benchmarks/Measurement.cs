namespace Dclm.Benchmarks;

/// <summary>Tokens per second over repetitions: mean ± standard deviation, as llama-bench prints them.</summary>
public sealed record Measurement(double Mean, double StandardDeviation, int Repetitions)
{
    /// <summary>Summarises per-repetition rates.</summary>
    public static Measurement Of(IReadOnlyList<double> rates)
    {
        double mean = rates.Average();
        double variance = rates.Count > 1 ? rates.Sum(r => (r - mean) * (r - mean)) / (rates.Count - 1) : 0;
        return new Measurement(mean, Math.Sqrt(variance), rates.Count);
    }

    public override string ToString() => $"{Mean:F2} ± {StandardDeviation:F2}";
}

/// <summary>One engine's results.</summary>
public sealed record EngineResult(string Engine, Measurement PromptTokensPerSecond, Measurement GenerationTokensPerSecond, double ResidentMegabytes)
{
    /// <summary>
    /// Process CPU time (all threads) per prompt token: on a machine shared with other work this
    /// counts only the work done, not time spent waiting for a core. Threads that spin-wait count too.
    /// </summary>
    public double PromptCpuMillisecondsPerToken { get; init; }

    /// <summary>Process CPU time (all threads) per generated token; see <see cref="PromptCpuMillisecondsPerToken"/>.</summary>
    public double GenerationCpuMillisecondsPerToken { get; init; }
}
