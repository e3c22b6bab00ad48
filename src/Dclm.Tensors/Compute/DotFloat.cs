using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Dot products of a float activation row with an F32, F16 or BF16 weight row, Σ_i x[i]·w[i], the
/// 16-bit weights widened to float on the fly. SIMD paths keep partial sums per lane, so they differ
/// from the scalar reference by float rounding only.
/// </summary>
internal static unsafe class DotFloat
{
    public static float F32Scalar(float* x, byte* weight, int count) => Scalar<DotFloatRows4.F32Widener>(x, weight, count);

    public static float F16Scalar(float* x, byte* weight, int count) => Scalar<DotFloatRows4.F16Widener>(x, weight, count);

    public static float BF16Scalar(float* x, byte* weight, int count) => Scalar<DotFloatRows4.BF16Widener>(x, weight, count);

    public static float F32Avx512(float* x, byte* weight, int count) => OneRow<DotFloatRows4.F32Widener>(x, weight, count);

    public static float F32Avx2(float* x, byte* weight, int count) => TwoAccumulators<DotFloatRows4.F32Widener>(x, weight, count);

    public static float F16Avx512(float* x, byte* weight, int count) => OneRow<DotFloatRows4.F16Widener>(x, weight, count);

    public static float F16Avx2(float* x, byte* weight, int count) => TwoAccumulators<DotFloatRows4.F16Widener>(x, weight, count);

    public static float BF16Avx512(float* x, byte* weight, int count) => OneRow<DotFloatRows4.BF16Widener>(x, weight, count);

    public static float BF16Avx2(float* x, byte* weight, int count) => TwoAccumulators<DotFloatRows4.BF16Widener>(x, weight, count);

    /// <summary>The reference: Σ x[i]·w[i] in column order, one float sum.</summary>
    private static float Scalar<TWidener>(float* x, byte* weight, int count) where TWidener : struct, DotFloatRows4.IWidener
    {
        float sum = 0;
        for (int i = 0; i < count; i++) sum += x[i] * TWidener.Load1(weight, i);
        return sum;
    }

    /// <summary>AVX2: two 8-lane accumulators over 16-column steps, their lane sum, then the leftover columns.</summary>
    private static float TwoAccumulators<TWidener>(float* x, byte* weight, int count) where TWidener : struct, DotFloatRows4.IWidener
    {
        Vector256<float> a0 = default, a1 = default;
        nint i = 0; // pointer-sized, so that i + 8 folds into the load's address as it does for x
        for (; i + 16 <= count; i += 16)
        {
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), TWidener.Load8(weight, i), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), TWidener.Load8(weight, i + 8), a1);
        }
        float sum = Vector256.Sum(a0 + a1);
        for (; i < count; i++) sum += x[i] * TWidener.Load1(weight, (int)i);
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
