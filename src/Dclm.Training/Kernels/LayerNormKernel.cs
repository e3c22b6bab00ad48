using System.Numerics.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// open_lm's gain-only LayerNorm over rows, forward and backward.
/// y = x̂ ⊙ g with x̂ = (x − μ)·r, μ = mean(x), r = 1/sqrt(var(x) + eps) (biased variance).
/// </summary>
public static class LayerNormKernel
{
    /// <summary>Normalises each row of <paramref name="x"/> (rows, width) into <paramref name="y"/>, saving μ and r per row.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gain, float eps, int rows, int width,
        Span<float> y, Span<float> mean, Span<float> inverseStd, ComputePool pool)
        => Forward(x, width, gain, eps, rows, width, y, width, mean, inverseStd, pool);

    /// <summary>As <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, float, int, int, Span{float}, Span{float}, Span{float}, ComputePool)"/>, with row strides for x and y.</summary>
    public static unsafe void Forward(ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> gain, float eps, int rows, int width,
        Span<float> y, int yStride, Span<float> mean, Span<float> inverseStd, ComputePool pool)
    {
        NormRows.Check(x.Length, xStride, rows, width, "x");
        NormRows.Check(y.Length, yStride, rows, width, "y");
        if (gain.Length != width || mean.Length < rows || inverseStd.Length < rows) throw new ArgumentException("gain must have the row width; mean and inverseStd one value per row");
        fixed (float* px = x, pg = gain, py = y, pm = mean, pr = inverseStd)
        {
            float* xs = px, gs = pg, ys = py, ms = pm, rs = pr;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    var row = new ReadOnlySpan<float>(xs + (long)t * xStride, width);
                    // Statistics in double, as the inference LayerNorm computes them.
                    double mu = 0;
                    for (int i = 0; i < width; i++) mu += row[i];
                    mu /= width;
                    double variance = 0;
                    for (int i = 0; i < width; i++) { double d = row[i] - mu; variance += d * d; }
                    variance /= width;
                    float r = (float)(1.0 / Math.Sqrt(variance + eps));
                    ms[t] = (float)mu;
                    rs[t] = r;
                    var output = new Span<float>(ys + (long)t * yStride, width);
                    TensorPrimitives.Subtract(row, (float)mu, output);
                    TensorPrimitives.Multiply(output, r, output);
                    TensorPrimitives.Multiply(output, new ReadOnlySpan<float>(gs, width), output);
                }
            });
        }
    }

    /// <summary>
    /// dx (+)= r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ g; dgain += Σ_rows dy ⊙ x̂
    /// (skipped when <paramref name="gainGradient"/> is empty: a frozen gain).
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> gain,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseStd, int rows, int width,
        Span<float> dx, int dxStride, bool accumulate, Span<float> gainGradient, ComputePool pool)
    {
        NormRows.Check(dy.Length, dyStride, rows, width, "dy");
        NormRows.Check(x.Length, xStride, rows, width, "x");
        NormRows.Check(dx.Length, dxStride, rows, width, "dx");
        if (gain.Length != width || (gainGradient.Length != width && !gainGradient.IsEmpty) || mean.Length < rows || inverseStd.Length < rows)
            throw new ArgumentException("gain and its gradient must have the row width; mean and inverseStd one value per row");
        fixed (float* pdy = dy, px = x, pg = gain, pm = mean, pr = inverseStd, pdx = dx)
        {
            float* dys = pdy, xs = px, gs = pg, ms = pm, rs = pr, dxs = pdx;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                var normalized = new float[width];
                var scaled = new float[width];
                for (int t = start; t < end; t++)
                {
                    var dyRow = new ReadOnlySpan<float>(dys + (long)t * dyStride, width);
                    TensorPrimitives.Subtract(new ReadOnlySpan<float>(xs + (long)t * xStride, width), ms[t], normalized);
                    TensorPrimitives.Multiply(normalized, rs[t], normalized);
                    TensorPrimitives.Multiply(dyRow, new ReadOnlySpan<float>(gs, width), scaled);
                    float meanScaled = TensorPrimitives.Sum(scaled) / width;
                    float meanProduct = TensorPrimitives.Dot(scaled, normalized) / width;
                    // scaled ← r·(scaled − meanScaled − x̂·meanProduct)
                    TensorPrimitives.MultiplyAdd(normalized, -meanProduct, scaled, scaled);
                    TensorPrimitives.Subtract(scaled, meanScaled, scaled);
                    TensorPrimitives.Multiply(scaled, rs[t], scaled);
                    NormRows.Store(scaled, new Span<float>(dxs + (long)t * dxStride, width), accumulate);
                }
            });
            if (!gainGradient.IsEmpty) NormRows.AddGainGradient(pdy, dyStride, px, xStride, pm, pr, rows, width, gainGradient);
        }
    }
}
