using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Ops;

/// <summary>
/// Sums of float rows accumulated in double, eight (AVX-512) or four (AVX) lanes at a time with two
/// accumulators: the norms' statistics. A scalar double loop is one dependent add per element (four
/// cycles each), which made a width-256 LayerNorm cost about a microsecond, as much as the products
/// around it for a small model's decode step.
/// </summary>
public static class DoubleSums
{
    /// <summary>Σ x[i].</summary>
    public static double Sum(ReadOnlySpan<float> x) => Accumulate<Plain>(x, 0);

    /// <summary>Σ x[i]².</summary>
    public static double SumSquares(ReadOnlySpan<float> x) => Accumulate<Squared>(x, 0);

    /// <summary>Σ (x[i] − center)².</summary>
    public static double SumSquaredDeviations(ReadOnlySpan<float> x, double center) => Accumulate<Squared>(x, center);

    private interface ITerm
    {
        static abstract Vector512<double> Of(Vector512<double> d);
        static abstract Vector256<double> Of(Vector256<double> d);
        static abstract double Of(double d);
    }

    private struct Plain : ITerm
    {
        public static Vector512<double> Of(Vector512<double> d) => d;
        public static Vector256<double> Of(Vector256<double> d) => d;
        public static double Of(double d) => d;
    }

    private struct Squared : ITerm
    {
        public static Vector512<double> Of(Vector512<double> d) => d * d;
        public static Vector256<double> Of(Vector256<double> d) => d * d;
        public static double Of(double d) => d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Accumulate<TTerm>(ReadOnlySpan<float> x, double center) where TTerm : struct, ITerm
    {
        ref float start = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        double total = 0;
        if (Avx512F.IsSupported && n >= 16)
        {
            var c = Vector512.Create(center);
            Vector512<double> a0 = default, a1 = default;
            for (; i + 16 <= n; i += 16)
            {
                a0 += TTerm.Of(Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref start, (nuint)i)) - c);
                a1 += TTerm.Of(Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref start, (nuint)i + 8)) - c);
            }
            total = Vector512.Sum(a0 + a1);
        }
        else if (Avx.IsSupported && n >= 8)
        {
            var c = Vector256.Create(center);
            Vector256<double> a0 = default, a1 = default;
            for (; i + 8 <= n; i += 8)
            {
                a0 += TTerm.Of(Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref start, (nuint)i)) - c);
                a1 += TTerm.Of(Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref start, (nuint)i + 4)) - c);
            }
            total = Vector256.Sum(a0 + a1);
        }
        for (; i < n; i++) total += TTerm.Of(Unsafe.Add(ref start, i) - center);
        return total;
    }
}
