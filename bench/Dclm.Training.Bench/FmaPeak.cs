using System.Diagnostics;
using System.Runtime.Intrinsics;

/// <summary>This machine's peak FMA rate.</summary>
internal static class FmaPeak
{
    /// <summary>GFLOP/s of independent FMA chains in registers on <paramref name="threads"/> threads at once: the ceiling no kernel can pass. Best of 3.</summary>
    public static double Measure(int threads)
    {
        // Independent FMA chains in registers on every thread at once: the ceiling no kernel can pass. Best of 3.
        const long Iterations = 20_000_000;
        int width = Vector512.IsHardwareAccelerated ? 16 : 8;
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var sums = new float[threads];
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => sums[t] = FmaChains(Iterations))).ToArray();
            var clock = Stopwatch.StartNew();
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
            double seconds = clock.Elapsed.TotalSeconds;
            if (sums.Any(v => v == 0)) throw new InvalidOperationException("the FMA loop was optimised away");
            best = Math.Max(best, threads * Iterations * 8.0 * width * 2 / seconds / 1e9);
        }
        return best;
    }

    private static float FmaChains(long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(0.999999f); var b = Vector512.Create(1e-7f);
            Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
                c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b); c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            }
            return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
        }
        else
        {
            var a = Vector256.Create(0.999999f); var b = Vector256.Create(1e-7f);
            Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
                c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b); c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            }
            return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
        }
    }
}
