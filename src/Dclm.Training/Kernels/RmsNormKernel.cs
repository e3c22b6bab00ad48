using System.Numerics.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// RMSNorm over rows (Llama, Qwen), forward and backward: y = x̂ ⊙ g with x̂ = x·r, r = 1/sqrt(mean(x²) + eps).
/// Backward: dx (+)= r·(ĝ − x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ g; dgain += Σ_rows dy ⊙ x̂.
/// </summary>
public static class RmsNormKernel
{
    /// <summary>Normalises each row of <paramref name="x"/> (rows, width; row stride xStride) into y, saving r per row.</summary>
    public static unsafe void Forward(ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> gain, float eps, int rows, int width,
        Span<float> y, int yStride, Span<float> inverseRms, ComputePool pool)
    {
        NormRows.Check(x.Length, xStride, rows, width, "x");
        NormRows.Check(y.Length, yStride, rows, width, "y");
        if (gain.Length != width || inverseRms.Length < rows) throw new ArgumentException("gain must have the row width; inverseRms one value per row");
        fixed (float* px = x, pg = gain, py = y, pr = inverseRms)
        {
            float* xs = px, gs = pg, ys = py, rs = pr;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    var row = new ReadOnlySpan<float>(xs + (long)t * xStride, width);
                    // The sum of squares in double, as the inference RmsNorm computes it.
                    double sumSquares = 0;
                    for (int i = 0; i < width; i++) sumSquares += (double)row[i] * row[i];
                    float r = (float)(1.0 / Math.Sqrt(sumSquares / width + eps));
                    rs[t] = r;
                    var output = new Span<float>(ys + (long)t * yStride, width);
                    TensorPrimitives.Multiply(row, r, output);
                    TensorPrimitives.Multiply(output, new ReadOnlySpan<float>(gs, width), output);
                }
            });
        }
    }

    /// <summary>Accumulates (or writes) dx and, unless <paramref name="gainGradient"/> is empty, the gain's gradient.</summary>
    public static unsafe void Backward(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> gain,
        ReadOnlySpan<float> inverseRms, int rows, int width, Span<float> dx, int dxStride, bool accumulate, Span<float> gainGradient, ComputePool pool)
    {
        NormRows.Check(dy.Length, dyStride, rows, width, "dy");
        NormRows.Check(x.Length, xStride, rows, width, "x");
        NormRows.Check(dx.Length, dxStride, rows, width, "dx");
        if (gain.Length != width || (gainGradient.Length != width && !gainGradient.IsEmpty) || inverseRms.Length < rows)
            throw new ArgumentException("gain and its gradient must have the row width; inverseRms one value per row");
        fixed (float* pdy = dy, px = x, pg = gain, pr = inverseRms, pdx = dx)
        {
            float* dys = pdy, xs = px, gs = pg, rs = pr, dxs = pdx;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                var normalized = new float[width];
                var scaled = new float[width];
                for (int t = start; t < end; t++)
                {
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(xs + (long)t * xStride, width), rs[t], normalized);
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(dys + (long)t * dyStride, width), new ReadOnlySpan<float>(gs, width), scaled);
                    float meanProduct = TensorPrimitives.Dot(scaled, normalized) / width;
                    TensorPrimitives.MultiplyAdd(normalized, -meanProduct, scaled, scaled);
                    TensorPrimitives.Multiply(scaled, rs[t], scaled);
                    NormRows.Store(scaled, new Span<float>(dxs + (long)t * dxStride, width), accumulate);
                }
            });
            if (!gainGradient.IsEmpty) NormRows.AddGainGradient(pdy, dyStride, px, xStride, null, pr, rows, width, gainGradient);
        }
    }
}
