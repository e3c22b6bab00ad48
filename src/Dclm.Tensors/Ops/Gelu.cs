using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Ops;

/// <summary>The exact (erf) GELU of BERT-family feed-forward layers.</summary>
public static class Gelu
{
    /// <summary>
    /// destination_i = x_i · ½ · (1 + erf(x_i / √2)), torch.nn.functional.gelu's default (not the tanh
    /// approximation). erf comes from erfc(z) = t · e^(−z² + P(t)), t = 1 / (1 + z/2), a Chebyshev fit
    /// with relative error below 1.2e-7 for every z ≥ 0 (Numerical Recipes' erfcc), so the result is as
    /// close as float arithmetic allows. Destination may be x itself.
    /// </summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        if (destination.Length < x.Length) throw new ArgumentException("destination is shorter than x", nameof(destination));
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float target = ref MemoryMarshal.GetReference(destination);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref source, (nuint)i);
                var z = Vector512.Abs(v) * Vector512.Create(InverseSqrt2);
                var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * z);
                var erfc = t * Vector512.Exp(-z * z + Polynomial(t));
                // ½(1 + erf(x/√2)) is 1 − erfc/2 above zero and erfc/2 below.
                var half = Vector512.Create(0.5f) * erfc;
                var cdf = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), half, Vector512<float>.One - half);
                (v * cdf).StoreUnsafe(ref target, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref source, (nuint)i);
                var z = Vector256.Abs(v) * Vector256.Create(InverseSqrt2);
                var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(0.5f) * z);
                var erfc = t * Vector256.Exp(-z * z + Polynomial(t));
                var half = Vector256.Create(0.5f) * erfc;
                var cdf = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), half, Vector256<float>.One - half);
                (v * cdf).StoreUnsafe(ref target, (nuint)i);
            }
        for (; i < n; i++) Unsafe.Add(ref target, i) = Scalar(Unsafe.Add(ref source, i));
    }

    /// <summary>The scalar reference: x · ½ · (1 + erf(x / √2)) with the same erfc fit in double.</summary>
    public static float Scalar(float x)
    {
        double z = Math.Abs(x) * (double)InverseSqrt2;
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        double cdf = x < 0 ? 0.5 * erfc : 1 - 0.5 * erfc;
        return (float)(x * cdf);
    }

    private const float InverseSqrt2 = 0.70710678118654752f;

    private static Vector512<float> Polynomial(Vector512<float> t) =>
        Vector512.Create(-1.26551223f) + t * (Vector512.Create(1.00002368f) + t * (Vector512.Create(0.37409196f) + t * (Vector512.Create(0.09678418f)
        + t * (Vector512.Create(-0.18628806f) + t * (Vector512.Create(0.27886807f) + t * (Vector512.Create(-1.13520398f)
        + t * (Vector512.Create(1.48851587f) + t * (Vector512.Create(-0.82215223f) + t * Vector512.Create(0.17087277f)))))))));

    private static Vector256<float> Polynomial(Vector256<float> t) =>
        Vector256.Create(-1.26551223f) + t * (Vector256.Create(1.00002368f) + t * (Vector256.Create(0.37409196f) + t * (Vector256.Create(0.09678418f)
        + t * (Vector256.Create(-0.18628806f) + t * (Vector256.Create(0.27886807f) + t * (Vector256.Create(-1.13520398f)
        + t * (Vector256.Create(1.48851587f) + t * (Vector256.Create(-0.82215223f) + t * Vector256.Create(0.17087277f)))))))));
}
