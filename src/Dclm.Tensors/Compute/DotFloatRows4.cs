using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// AVX-512 kernels for float weight types (F32, F16, BF16) over four weight rows at once: against
/// four token rows (sixteen accumulators, each widened weight vector used four times and each token
/// vector four times) or against one. The sixteen or four sums are reduced together by transposing
/// shuffles (<see cref="FloatReduction"/>) instead of one horizontal sum each, which for short rows
/// (a dim-128 model's output head) cost more than the multiply-adds. Per (row, token) the arithmetic is
/// that of the one-row kernel in <see cref="DotFloat"/>: one accumulator over 16-column steps, the same
/// reduction tree, then the leftover columns one by one, so results are bit-identical to it.
/// </summary>
internal static unsafe class DotFloatRows4
{
    /// <summary>y[k·yStride + r] = Σ_i x[k·xStride + i]·w[r·rowBytes][i] for rows r and tokens k in 0..3.</summary>
    public static void F32x4(float* x, long xStride, byte* weight, long rowBytes, int count, float* y, long yStride) =>
        Tokens4<F32Widener>(x, xStride, weight, rowBytes, count, y, yStride);

    public static void F16x4(float* x, long xStride, byte* weight, long rowBytes, int count, float* y, long yStride) =>
        Tokens4<F16Widener>(x, xStride, weight, rowBytes, count, y, yStride);

    public static void BF16x4(float* x, long xStride, byte* weight, long rowBytes, int count, float* y, long yStride) =>
        Tokens4<BF16Widener>(x, xStride, weight, rowBytes, count, y, yStride);

    /// <summary>y[r] = Σ_i x[i]·w[r·rowBytes][i] for rows r in 0..3.</summary>
    public static void F32x1(float* x, byte* weight, long rowBytes, int count, float* y) => Token1<F32Widener>(x, weight, rowBytes, count, y);

    public static void F16x1(float* x, byte* weight, long rowBytes, int count, float* y) => Token1<F16Widener>(x, weight, rowBytes, count, y);

    public static void BF16x1(float* x, byte* weight, long rowBytes, int count, float* y) => Token1<BF16Widener>(x, weight, rowBytes, count, y);

    internal interface IWidener
    {
        static abstract Vector512<float> Load16(byte* row, int index);
        static abstract Vector256<float> Load8(byte* row, nint index);
        static abstract float Load1(byte* row, int index);
    }

    internal struct F32Widener : IWidener
    {
        public static Vector512<float> Load16(byte* row, int index) => Vector512.Load((float*)row + index);
        public static Vector256<float> Load8(byte* row, nint index) => Vector256.Load((float*)row + index);
        public static float Load1(byte* row, int index) => ((float*)row)[index];
    }

    internal struct F16Widener : IWidener
    {
        public static Vector512<float> Load16(byte* row, int index) => HalfConversion.Widen16(Vector256.Load((ushort*)row + index));
        public static Vector256<float> Load8(byte* row, nint index) => HalfConversion.Widen8(Vector128.Load((ushort*)row + index));
        public static float Load1(byte* row, int index) => HalfConversion.ToSingle(((ushort*)row)[index]);
    }

    internal struct BF16Widener : IWidener
    {
        public static Vector512<float> Load16(byte* row, int index) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + index)), 16).AsSingle();
        public static Vector256<float> Load8(byte* row, nint index) => BFloat16Conversion.Widen8(Vector128.Load((ushort*)row + index));
        public static float Load1(byte* row, int index) => BFloat16Conversion.ToSingle(((ushort*)row)[index]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tokens4<TWidener>(float* x, long xStride, byte* weight, long rowBytes, int count, float* y, long yStride)
        where TWidener : struct, IWidener
    {
        byte* w0 = weight, w1 = weight + rowBytes, w2 = weight + 2 * rowBytes, w3 = weight + 3 * rowBytes;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            Vector512<float> t0 = Vector512.Load(x0 + i), t1 = Vector512.Load(x1 + i);
            Vector512<float> t2 = Vector512.Load(x2 + i), t3 = Vector512.Load(x3 + i);
            Vector512<float> r = TWidener.Load16(w0, i);
            a00 = Vector512.FusedMultiplyAdd(t0, r, a00);
            a01 = Vector512.FusedMultiplyAdd(t1, r, a01);
            a02 = Vector512.FusedMultiplyAdd(t2, r, a02);
            a03 = Vector512.FusedMultiplyAdd(t3, r, a03);
            r = TWidener.Load16(w1, i);
            a10 = Vector512.FusedMultiplyAdd(t0, r, a10);
            a11 = Vector512.FusedMultiplyAdd(t1, r, a11);
            a12 = Vector512.FusedMultiplyAdd(t2, r, a12);
            a13 = Vector512.FusedMultiplyAdd(t3, r, a13);
            r = TWidener.Load16(w2, i);
            a20 = Vector512.FusedMultiplyAdd(t0, r, a20);
            a21 = Vector512.FusedMultiplyAdd(t1, r, a21);
            a22 = Vector512.FusedMultiplyAdd(t2, r, a22);
            a23 = Vector512.FusedMultiplyAdd(t3, r, a23);
            r = TWidener.Load16(w3, i);
            a30 = Vector512.FusedMultiplyAdd(t0, r, a30);
            a31 = Vector512.FusedMultiplyAdd(t1, r, a31);
            a32 = Vector512.FusedMultiplyAdd(t2, r, a32);
            a33 = Vector512.FusedMultiplyAdd(t3, r, a33);
        }
        Vector512<float> sums = FloatReduction.Sum16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
        if (i == count)
        {
            sums.GetLower().GetLower().Store(y);
            sums.GetLower().GetUpper().Store(y + yStride);
            sums.GetUpper().GetLower().Store(y + 2 * yStride);
            sums.GetUpper().GetUpper().Store(y + 3 * yStride);
            return;
        }
        for (int k = 0; k < 4; k++)
        {
            float* xk = x + k * xStride;
            for (int r = 0; r < 4; r++)
            {
                byte* wr = weight + r * rowBytes;
                float sum = sums.GetElement(4 * k + r);
                for (int j = i; j < count; j++) sum += xk[j] * TWidener.Load1(wr, j);
                y[k * yStride + r] = sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Token1<TWidener>(float* x, byte* weight, long rowBytes, int count, float* y) where TWidener : struct, IWidener
    {
        byte* w0 = weight, w1 = weight + rowBytes, w2 = weight + 2 * rowBytes, w3 = weight + 3 * rowBytes;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            Vector512<float> t = Vector512.Load(x + i);
            a0 = Vector512.FusedMultiplyAdd(t, TWidener.Load16(w0, i), a0);
            a1 = Vector512.FusedMultiplyAdd(t, TWidener.Load16(w1, i), a1);
            a2 = Vector512.FusedMultiplyAdd(t, TWidener.Load16(w2, i), a2);
            a3 = Vector512.FusedMultiplyAdd(t, TWidener.Load16(w3, i), a3);
        }
        Vector512<float> sums = FloatReduction.Sum4(a0, a1, a2, a3);
        for (int r = 0; r < 4; r++)
        {
            byte* wr = weight + r * rowBytes;
            float sum = sums.GetElement(4 * r);
            for (int j = i; j < count; j++) sum += x[j] * TWidener.Load1(wr, j);
            y[r] = sum;
        }
    }
}
