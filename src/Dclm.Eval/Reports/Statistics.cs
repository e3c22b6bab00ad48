using Dclm.Eval.Prompting;

namespace Dclm.Eval.Reports;

/// <summary>Standard errors as lm-evaluation-harness computes them (lm_eval/api/metrics.py).</summary>
public static class Statistics
{
    /// <summary>The harness's default number of bootstrap resamples (simple_evaluate's bootstrap_iters).</summary>
    public const int DefaultBootstrapIterations = 100_000;

    /// <summary>Python's sum(xs) / len(xs), added left to right.</summary>
    public static double Mean(IReadOnlyList<double> values)
    {
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum / values.Count;
    }

    /// <summary>sample_stddev: √(Σ(x − mean)² / (n − 1)).</summary>
    public static double SampleStandardDeviation(IReadOnlyList<double> values)
    {
        double mean = Mean(values), sum = 0;
        foreach (double v in values) sum += (v - mean) * (v - mean);
        return Math.Sqrt(sum / (values.Count - 1));
    }

    /// <summary>mean_stderr, the stderr of mean-aggregated metrics (acc, acc_norm): sample stddev / √n; NaN ("N/A") below two items.</summary>
    public static double MeanStandardError(IReadOnlyList<double> values) =>
        values.Count < 2 ? double.NaN : SampleStandardDeviation(values) / Math.Sqrt(values.Count);

    /// <summary>
    /// bootstrap_stderr: <paramref name="iterations"/> resamples in chunks of min(1000, iterations), chunk i
    /// drawing with <c>random.Random(i).choices(xs, k=len(xs))</c>; the stderr is the sample stddev of the
    /// statistic over the resamples (what the harness does for perplexity). NaN below two items.
    /// </summary>
    public static double BootstrapStandardError(IReadOnlyList<double> values, Func<IReadOnlyList<double>, double> statistic, int iterations, CancellationToken cancellation = default)
    {
        if (values.Count < 2 || iterations <= 0) return double.NaN;
        int chunk = Math.Min(1000, iterations);
        var results = new double[iterations / chunk * chunk];
        Parallel.For(0, iterations / chunk, new ParallelOptions { CancellationToken = cancellation }, i =>
        {
            var random = new PythonRandom(i);
            var sample = new double[values.Count];
            for (int r = 0; r < chunk; r++)
            {
                for (int k = 0; k < sample.Length; k++) sample[k] = values[(int)Math.Floor(random.NextDouble() * values.Count)];
                results[i * chunk + r] = statistic(sample);
            }
        });
        return SampleStandardDeviation(results);
    }

    /// <summary>The harness's perplexity aggregation: exp(−mean log-likelihood).</summary>
    public static double Perplexity(IReadOnlyList<double> logLikelihoods) => Math.Exp(-Mean(logLikelihoods));

    /// <summary>pooled_sample_stderr: a group's stderr from its tasks' stderrs and sizes, √(Σ(nᵢ−1)·seᵢ²·nᵢ / (Σnᵢ − k) / Σnᵢ).</summary>
    public static double PooledStandardError(IReadOnlyList<double> standardErrors, IReadOnlyList<int> sizes)
    {
        double numerator = 0;
        long total = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            numerator += (sizes[i] - 1) * standardErrors[i] * standardErrors[i] * sizes[i];
            total += sizes[i];
        }
        return Math.Sqrt(numerator / (total - sizes.Count) / total);
    }
}
