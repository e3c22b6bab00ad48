using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Prefill kernels for float weight types: one F32/F16/BF16 weight row against four token rows, each
/// 16 weights widened once and used four times. Per token the arithmetic and its order are those of
/// the single-token AVX-512 kernels in <see cref="DotFloat"/>, so results are bit-identical to them.
/// </summary>
internal static unsafe class DotFloatTokens4
{
    /// <summary>results[k] = Σ_i x[k·stride + i]·w[i] for k in 0..3.</summary>
    public static void F32(float* x, long stride, byte* weight, int count, float* results) => Run<F32Widener>(x, stride, weight, count, results);

    public static void F16(float* x, long stride, byte* weight, int count, float* results) => Run<F16Widener>(x, stride, weight, count, results);

    public static void BF16(float* x, long stride, byte* weight, int count, float* results) => Run<BF16Widener>(x, stride, weight, count, results);

    private interface IWidener
    {
        static abstract Vector512<float> Load16(byte* weight, int index);
        static abstract float Load1(byte* weight, int index);
    }

    private struct F32Widener : IWidener
    {
        public static Vector512<float> Load16(byte* weight, int index) => Vector512.Load((float*)weight + index);
        public static float Load1(byte* weight, int index) => ((float*)weight)[index];
    }

    private struct F16Widener : IWidener
    {
        public static Vector512<float> Load16(byte* weight, int index) => HalfConversion.Widen16(Vector256.Load((ushort*)weight + index));
        public static float Load1(byte* weight, int index) => HalfConversion.ToSingle(((ushort*)weight)[index]);
    }

    private struct BF16Widener : IWidener
    {
        public static Vector512<float> Load16(byte* weight, int index) => BFloat16Conversion.Widen16(Vector256.Load((ushort*)weight + index));
        public static float Load1(byte* weight, int index) => BFloat16Conversion.ToSingle(((ushort*)weight)[index]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TWidener>(float* x, long stride, byte* weight, int count, float* results) where TWidener : struct, IWidener
    {
        float* x0 = x, x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride;
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
        int i = 0;
        for (; i + 32 <= count; i += 32)
        {
            Vector512<float> w0 = TWidener.Load16(weight, i), w1 = TWidener.Load16(weight, i + 16);
            a00 = Vector512.FusedMultiplyAdd(Vector512.Load(x0 + i), w0, a00);
            a01 = Vector512.FusedMultiplyAdd(Vector512.Load(x0 + i + 16), w1, a01);
            a10 = Vector512.FusedMultiplyAdd(Vector512.Load(x1 + i), w0, a10);
            a11 = Vector512.FusedMultiplyAdd(Vector512.Load(x1 + i + 16), w1, a11);
            a20 = Vector512.FusedMultiplyAdd(Vector512.Load(x2 + i), w0, a20);
            a21 = Vector512.FusedMultiplyAdd(Vector512.Load(x2 + i + 16), w1, a21);
            a30 = Vector512.FusedMultiplyAdd(Vector512.Load(x3 + i), w0, a30);
            a31 = Vector512.FusedMultiplyAdd(Vector512.Load(x3 + i + 16), w1, a31);
        }
        float s0 = Vector512.Sum(a00 + a01), s1 = Vector512.Sum(a10 + a11), s2 = Vector512.Sum(a20 + a21), s3 = Vector512.Sum(a30 + a31);
        for (; i < count; i++)
        {
            float w = TWidener.Load1(weight, i);
            s0 += x0[i] * w;
            s1 += x1[i] * w;
            s2 += x2[i] * w;
            s3 += x3[i] * w;
        }
        results[0] = s0;
        results[1] = s1;
        results[2] = s2;
        results[3] = s3;
    }
}
