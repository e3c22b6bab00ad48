using System.Numerics.Tensors;

namespace Dclm.Tensors.Ops;

/// <summary>Root-mean-square normalisation (Llama).</summary>
public static class RmsNorm
{
    /// <summary>destination = x / sqrt(mean(x²) + eps) ⊙ gain.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> gain, float eps, Span<float> destination)
    {
        int n = x.Length;
        if (gain.Length != n || destination.Length < n) throw new ArgumentException("x, gain and destination must have the same length");
        if (n == 0) return;
        double sumSquares = DoubleSums.SumSquares(x);
        float inverse = (float)(1.0 / Math.Sqrt(sumSquares / n + eps));
        TensorPrimitives.Multiply(x, inverse, destination[..n]);
        TensorPrimitives.Multiply(destination[..n], gain, destination[..n]);
    }
}
