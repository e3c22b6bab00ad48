using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Ops;

/// <summary>
/// The vocabulary-wide reductions of sampling, log-probabilities and scoring, on the runtime's vector
/// intrinsics. Over 50,432 logits (tier-1 code, AVX-512): Vector512.Exp 32 us against 117 us for
/// TensorPrimitives.Exp (System.Numerics.Tensors 11.0.0), and 14 us against 21 us for Max.
/// </summary>
public static class VectorMath
{
    /// <summary>destination[i] = e^(source[i] − shift). Destination may be source.</summary>
    public static void ExpShifted(ReadOnlySpan<float> source, float shift, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source");
        ref float s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        int n = source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var by = Vector512.Create(shift);
            for (; i + 16 <= n; i += 16) Vector512.Exp(Vector512.LoadUnsafe(ref s, (nuint)i) - by).StoreUnsafe(ref d, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var by = Vector256.Create(shift);
            for (; i + 8 <= n; i += 8) Vector256.Exp(Vector256.LoadUnsafe(ref s, (nuint)i) - by).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = MathF.Exp(Unsafe.Add(ref s, i) - shift);
    }

    /// <summary>The largest value (NaN if any value is NaN); −∞ for an empty span.</summary>
    public static float Max(ReadOnlySpan<float> values)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        float max = float.NegativeInfinity;
        bool nan = false;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> m0 = Vector512.Create(float.NegativeInfinity), m1 = m0, m2 = m0, m3 = m0;
            Vector512<float> seenNaN = Vector512<float>.Zero;
            for (; i + 64 <= n; i += 64)
            {
                var a = Vector512.LoadUnsafe(ref v, (nuint)i);
                var b = Vector512.LoadUnsafe(ref v, (nuint)i + 16);
                var c = Vector512.LoadUnsafe(ref v, (nuint)i + 32);
                var e = Vector512.LoadUnsafe(ref v, (nuint)i + 48);
                seenNaN |= ~Vector512.Equals(a, a) | ~Vector512.Equals(b, b) | ~Vector512.Equals(c, c) | ~Vector512.Equals(e, e);
                (m0, m1, m2, m3) = (Vector512.Max(m0, a), Vector512.Max(m1, b), Vector512.Max(m2, c), Vector512.Max(m3, e));
            }
            nan = seenNaN != Vector512<float>.Zero;
            var m = Vector512.Max(Vector512.Max(m0, m1), Vector512.Max(m2, m3));
            for (int lane = 0; lane < 16; lane++) max = Math.Max(max, m.GetElement(lane));
        }
        for (; i < n; i++)
        {
            float x = Unsafe.Add(ref v, i);
            if (float.IsNaN(x)) nan = true;
            else if (x > max) max = x;
        }
        return nan ? float.NaN : max;
    }

    /// <summary>Σ values, accumulated in double.</summary>
    public static double Sum(ReadOnlySpan<float> values) => DoubleSums.Sum(values);

    /// <summary>log Σ e^(x_i − max) + max, the log-normalizer of a row of logits (max is the row's largest value).</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits, float max, Span<float> scratch)
    {
        var shifted = scratch[..logits.Length];
        ExpShifted(logits, max, shifted);
        return max + Math.Log(Sum(shifted));
    }
}
