using System.Numerics.Tensors;

namespace Dclm.Training.Kernels;

/// <summary>What <see cref="LayerNormKernel"/> and <see cref="RmsNormKernel"/> share around their row arithmetic.</summary>
internal static unsafe class NormRows
{
    /// <summary>Throws unless <paramref name="length"/> values hold <paramref name="rows"/> rows of <paramref name="width"/> at <paramref name="stride"/>.</summary>
    public static void Check(int length, int stride, int rows, int width, string name)
    {
        if (rows > 0 && length < (long)(rows - 1) * stride + width) throw new ArgumentException($"{name} holds {length} values, too few for {rows} rows of {width} at stride {stride}");
    }

    /// <summary>destination (+)= gradient: a row of dx, added when the caller accumulates.</summary>
    public static void Store(ReadOnlySpan<float> gradient, Span<float> destination, bool accumulate)
    {
        if (accumulate) TensorPrimitives.Add(destination, gradient, destination);
        else gradient.CopyTo(destination);
    }

    /// <summary>
    /// dgain += Σ_rows dy ⊙ x̂ with x̂ = (x − μ)·r, where <paramref name="mean"/> is null for RMSNorm (x̂ = x·r). Summed over
    /// rows in row order on one thread, so it is reproducible.
    /// </summary>
    public static void AddGainGradient(float* dy, int dyStride, float* x, int xStride, float* mean, float* inverse, int rows, int width,
        Span<float> gainGradient)
    {
        var xhat = new float[width];
        for (int t = 0; t < rows; t++)
        {
            var row = new ReadOnlySpan<float>(x + (long)t * xStride, width);
            if (mean == null) TensorPrimitives.Multiply(row, inverse[t], xhat);
            else
            {
                TensorPrimitives.Subtract(row, mean[t], xhat);
                TensorPrimitives.Multiply(xhat, inverse[t], xhat);
            }
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(dy + (long)t * dyStride, width), xhat, gainGradient, gainGradient);
        }
    }
}
