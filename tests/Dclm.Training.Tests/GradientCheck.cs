namespace Dclm.Training.Tests;

/// <summary>Central finite differences of a float64 function, compared with an analytic float32 gradient.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// For each index, (f(x + h·e_i) − f(x − h·e_i)) / 2h in double must match <paramref name="analytic"/>[i]
    /// to <paramref name="tolerance"/> relative, measured against max(|fd|, 1e-2·max|fd|) so that near-zero
    /// entries are judged on the gradient's own scale.
    /// </summary>
    public static void Assert(double[] x, Func<double[], double> f, ReadOnlySpan<float> analytic, string what, double tolerance = 1e-4, double step = 1e-5, IEnumerable<int>? indices = null)
    {
        var chosen = (indices ?? Enumerable.Range(0, x.Length)).ToArray();
        var numeric = new double[chosen.Length];
        for (int k = 0; k < chosen.Length; k++)
        {
            int i = chosen[k];
            double saved = x[i];
            x[i] = saved + step; double plus = f(x);
            x[i] = saved - step; double minus = f(x);
            x[i] = saved;
            numeric[k] = (plus - minus) / (2 * step);
        }
        double scale = numeric.Max(Math.Abs);
        Xunit.Assert.True(scale > 0, $"{what}: the finite-difference gradient is all zero, the check would prove nothing");
        for (int k = 0; k < chosen.Length; k++)
        {
            double reference = numeric[k], error = Math.Abs(analytic[chosen[k]] - reference);
            double denominator = Math.Max(Math.Abs(reference), 1e-2 * scale);
            Xunit.Assert.True(error <= tolerance * denominator,
                $"{what}[{chosen[k]}]: analytic {analytic[chosen[k]]:R}, finite difference {reference:R}, relative error {error / denominator:E2}");
        }
    }

    public static double[] Random(int count, int seed, double scale = 1.0)
    {
        var random = new Random(seed);
        // Values representable in float, so the float32 kernels and the float64 reference see the same point.
        return Enumerable.Range(0, count).Select(_ => (double)(float)(scale * (random.NextDouble() * 2 - 1))).ToArray();
    }

    public static float[] ToFloat(double[] x) => x.Select(v => (float)v).ToArray();

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
