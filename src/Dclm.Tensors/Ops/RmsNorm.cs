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
        Apply(x, gain, DoubleSums.SumSquares(x) / n, eps, destination);
    }

    /// <summary>destination = x / sqrt(meanSquare + eps) ⊙ gain with mean(x²) given (a row split over processes uses the whole row's).</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> gain, double meanSquare, float eps, Span<float> destination)
    {
        int n = x.Length;
        if (gain.Length != n || destination.Length < n) throw new ArgumentException("x, gain and destination must have the same length");
        if (n == 0) return;
        float inverse = (float)(1.0 / Math.Sqrt(meanSquare + eps));
        TensorPrimitives.Multiply(x, inverse, destination[..n]);
        TensorPrimitives.Multiply(destination[..n], gain, destination[..n]);
    }
}
