using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Dot products of a float activation row with an F32, F16 or BF16 weight row, Σ_i x[i]·w[i], the
/// 16-bit weights widened to float on the fly. SIMD paths keep partial sums per lane, so they differ
/// from the scalar reference by float rounding only.
/// </summary>
internal static unsafe class DotFloat
{
    public static float F32Scalar(float* x, byte* weight, int count)
    {
        float* w = (float*)weight;
        float sum = 0;
        for (int i = 0; i < count; i++) sum += x[i] * w[i];
        return sum;
    }

    public static float F16Scalar(float* x, byte* weight, int count)
    {
        ushort* w = (ushort*)weight;
        float sum = 0;
        for (int i = 0; i < count; i++) sum += x[i] * HalfConversion.ToSingle(w[i]);
        return sum;
    }

    public static float BF16Scalar(float* x, byte* weight, int count)
    {
        ushort* w = (ushort*)weight;
        float sum = 0;
        for (int i = 0; i < count; i++) sum += x[i] * BFloat16Conversion.ToSingle(w[i]);
        return sum;
    }

    public static float F32Avx512(float* x, byte* weight, int count) => OneRow<DotFloatRows4.F32Widener>(x, weight, count);

    public static float F32Avx2(float* x, byte* weight, int count)
    {
        float* w = (float*)weight;
        Vector256<float> a0 = default, a1 = default;
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(w + i), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), Vector256.Load(w + i + 8), a1);
        }
        float sum = Vector256.Sum(a0 + a1);
        for (; i < count; i++) sum += x[i] * w[i];
        return sum;
    }

    public static float F16Avx512(float* x, byte* weight, int count) => OneRow<DotFloatRows4.F16Widener>(x, weight, count);

    public static float F16Avx2(float* x, byte* weight, int count)
    {
        ushort* w = (ushort*)weight;
        Vector256<float> a0 = default, a1 = default;
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), HalfConversion.Widen8(Vector128.Load(w + i)), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), HalfConversion.Widen8(Vector128.Load(w + i + 8)), a1);
        }
        float sum = Vector256.Sum(a0 + a1);
        for (; i < count; i++) sum += x[i] * HalfConversion.ToSingle(w[i]);
        return sum;
    }

    public static float BF16Avx512(float* x, byte* weight, int count) => OneRow<DotFloatRows4.BF16Widener>(x, weight, count);

    public static float BF16Avx2(float* x, byte* weight, int count)
    {
        ushort* w = (ushort*)weight;
        Vector256<float> a0 = default, a1 = default;
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), BFloat16Conversion.Widen8(Vector128.Load(w + i)), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), BFloat16Conversion.Widen8(Vector128.Load(w + i + 8)), a1);
        }
        float sum = Vector256.Sum(a0 + a1);
        for (; i < count; i++) sum += x[i] * BFloat16Conversion.ToSingle(w[i]);
        return sum;
    }

    /// <summary>
    /// One accumulator over 16-column steps, <see cref="FloatReduction.Sum"/>, then the leftover
    /// columns: the per-row arithmetic of <see cref="DotFloatRows4"/>, so either gives the same bits.
    /// </summary>
    private static float OneRow<TWidener>(float* x, byte* weight, int count) where TWidener : struct, DotFloatRows4.IWidener
    {
        Vector512<float> a = default;
        int i = 0;
        for (; i + 16 <= count; i += 16) a = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), TWidener.Load16(weight, i), a);
        float sum = FloatReduction.Sum(a);
        for (; i < count; i++) sum += x[i] * TWidener.Load1(weight, i);
        return sum;
    }
}
