using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Attention scores of one query head against a run of cached keys:
/// scores[i] = Σ_c query[c] · keys[i·stride + c] for i in [0, count), over c in [0, headDim) with
/// headDim = query.Length. Keys are f32 or int8 (the int8 scores come before the keys' scales).
/// <para>
/// Levels: the scalar reference sums in order. AVX2 keeps two 256-bit accumulators per position
/// (columns c mod 16 below 8 and from 8), then a horizontal sum. AVX-512, for heads a multiple of sixteen
/// wide, takes sixteen positions at once: their sixteen 512-bit accumulators are reduced together by
/// transposing shuffles (<see cref="FloatReduction.Sum16"/>) instead of one horizontal sum each, which for
/// 32-wide heads costs more than the multiply-adds. The positions after the last whole sixteen go one by
/// one: f32 keys by the AVX2 kernel, int8 keys by one 512-bit accumulator. Which positions take which path
/// depends only on the run, so a token's scores do not depend on its batch.
/// </para>
/// </summary>
public static unsafe class AttentionScores
{
    /// <summary>Positions the AVX-512 level reduces at once.</summary>
    public const int BlockPositions = 16;

    /// <summary>Lane 4k + r of <see cref="FloatReduction.Sum16"/> holds input 4r + k; this puts input i back in lane i.</summary>
    private static readonly Vector512<int> Unscramble = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);

    /// <summary>scores[i] = query · keys[i·stride .. +query.Length] for the <paramref name="count"/> positions of a run of f32 keys.</summary>
    public static void Compute(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, int stride, int count, Span<float> scores) =>
        Compute(query, keys, stride, count, scores, KernelIsaInfo.Best);

    /// <summary>The same over int8 keys, before their scales.</summary>
    public static void Compute(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> keys, int stride, int count, Span<float> scores) =>
        Compute(query, keys, stride, count, scores, KernelIsaInfo.Best);

    /// <summary>f32 keys with the kernels of one instruction-set level, for tests.</summary>
    internal static void Compute(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, int stride, int count, Span<float> scores, KernelIsa isa) =>
        Compute<F32Keys, float>(query, keys, stride, count, scores, isa);

    /// <summary>int8 keys with the kernels of one instruction-set level, for tests.</summary>
    internal static void Compute(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> keys, int stride, int count, Span<float> scores, KernelIsa isa) =>
        Compute<Int8Keys, sbyte>(query, keys, stride, count, scores, isa);

    private static void Compute<T, TElement>(ReadOnlySpan<float> query, ReadOnlySpan<TElement> keys, int stride, int count, Span<float> scores, KernelIsa isa)
        where T : struct, IKeys where TElement : unmanaged
    {
        Check(query.Length, keys.Length, stride, count, scores.Length, isa);
        if (count == 0) return;
        fixed (float* q = query)
        fixed (TElement* k = keys)
        fixed (float* s = scores)
            Run<T>(q, (byte*)k, stride, count, query.Length, s, isa);
    }

    /// <summary>True when the AVX-512 level takes sixteen positions at once for heads of <paramref name="headDim"/>.</summary>
    internal static bool Blocked(int headDim, KernelIsa isa) => isa == KernelIsa.Avx512 && headDim % 16 == 0 && headDim is > 0 and <= 256;

    private static void Check(int headDim, int keys, int stride, int count, int scores, KernelIsa isa)
    {
        if (count < 0 || stride < 0) throw new ArgumentOutOfRangeException(nameof(count), "count and stride must be non-negative");
        if (scores < count) throw new ArgumentException($"scores hold {scores} values, fewer than {count} positions", nameof(scores));
        if (count > 0 && keys < (long)(count - 1) * stride + headDim)
            throw new ArgumentException($"keys hold {keys} values, fewer than {count} positions {stride} apart of width {headDim}", nameof(keys));
        if (!KernelIsaInfo.IsSupported(isa)) throw new PlatformNotSupportedException($"this processor does not run {isa} kernels");
    }

    private static void Run<T>(float* q, byte* k, long stride, int count, int headDim, float* s, KernelIsa isa) where T : struct, IKeys
    {
        int i = 0;
        if (Blocked(headDim, isa))
        {
            for (; i + BlockPositions <= count; i += BlockPositions) Block16<T>(q, k, i * stride, stride, headDim, s + i);
            for (; i < count; i++) s[i] = T.Avx512Tail(q, k, i * stride, headDim);
            return;
        }
        if (isa >= KernelIsa.Avx2)
            for (; i < count; i++) s[i] = Avx2Dot<T>(q, k, i * stride, headDim);
        else
            for (; i < count; i++) s[i] = ScalarDot<T>(q, k, i * stride, headDim);
    }

    /// <summary>The reference: Σ_c q[c]·k[c] summed in order.</summary>
    internal static float ScalarDot<T>(float* q, byte* k, long start, int headDim) where T : struct, IKeys
    {
        float sum = 0;
        for (int c = 0; c < headDim; c++) sum += q[c] * T.Load1(k, start + c);
        return sum;
    }

    /// <summary>Two 256-bit accumulators over each sixteen columns, an eight-column step into the first, then the rest in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Avx2Dot<T>(float* q, byte* k, long start, int headDim) where T : struct, IKeys
    {
        Vector256<float> sum0 = Vector256<float>.Zero, sum1 = Vector256<float>.Zero;
        int c = 0;
        for (; c + 16 <= headDim; c += 16)
        {
            sum0 = Vector256.FusedMultiplyAdd(Vector256.Load(q + c), T.Load8(k, start + c), sum0);
            sum1 = Vector256.FusedMultiplyAdd(Vector256.Load(q + c + 8), T.Load8(k, start + c + 8), sum1);
        }
        if (c + 8 <= headDim)
        {
            sum0 = Vector256.FusedMultiplyAdd(Vector256.Load(q + c), T.Load8(k, start + c), sum0);
            c += 8;
        }
        float sum = Vector256.Sum(sum0 + sum1);
        for (; c < headDim; c++) sum += q[c] * T.Load1(k, start + c);
        return sum;
    }

    /// <summary>One 512-bit accumulator over a head a multiple of sixteen wide, then a horizontal sum.</summary>
    private static float Avx512Dot<T>(float* q, byte* k, long start, int headDim) where T : struct, IKeys
    {
        var sum = Vector512<float>.Zero;
        for (int c = 0; c < headDim; c += 16) sum = Vector512.FusedMultiplyAdd(Vector512.Load(q + c), T.Load16(k, start + c), sum);
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block16<T>(float* q, byte* k, long start, long stride, int headDim, float* s) where T : struct, IKeys
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        for (int c = 0; c < headDim; c += 16)
        {
            var x = Vector512.Load(q + c);
            long at = start + c;
            a0 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at), a0);
            a1 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + stride), a1);
            a2 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 2 * stride), a2);
            a3 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 3 * stride), a3);
            a4 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 4 * stride), a4);
            a5 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 5 * stride), a5);
            a6 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 6 * stride), a6);
            a7 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 7 * stride), a7);
            a8 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 8 * stride), a8);
            a9 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 9 * stride), a9);
            a10 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 10 * stride), a10);
            a11 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 11 * stride), a11);
            a12 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 12 * stride), a12);
            a13 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 13 * stride), a13);
            a14 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 14 * stride), a14);
            a15 = Vector512.FusedMultiplyAdd(x, T.Load16(k, at + 15 * stride), a15);
        }
        var sums = FloatReduction.Sum16(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
        Avx512F.PermuteVar16x32(sums, Unscramble).Store(s);
    }

    /// <summary>
    /// <see cref="Block16{T}"/> for four query rows (<paramref name="q"/> + r·headDim) against the same sixteen f32 keys:
    /// scores[r·16 + j] for r in [0, 4), j in [0, 16). Each key load feeds four rows' multiply-adds (a 4 × 4 register tile
    /// per quarter of the keys) instead of one. Every (row, key) accumulator takes the same multiply-adds in the same
    /// column order as in <see cref="Block16{T}"/>, and <see cref="FloatReduction.Sum16"/> reduces each of its inputs by
    /// the same tree whichever slot it sits in, so the scores are bit for bit those of four <see cref="Block16{T}"/> calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block16Rows4(float* q, float* k, long stride, int headDim, float* s)
    {
        float* q1 = q + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        for (int quarter = 0; quarter < 4; quarter++)
        {
            float* k0 = k + quarter * 4 * stride;
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            for (int c = 0; c < headDim; c += 16)
            {
                Vector512<float> x0 = Vector512.Load(q + c), x1 = Vector512.Load(q1 + c), x2 = Vector512.Load(q2 + c), x3 = Vector512.Load(q3 + c);
                var key = Vector512.Load(k0 + c);
                (a00, a10, a20, a30) = (Vector512.FusedMultiplyAdd(x0, key, a00), Vector512.FusedMultiplyAdd(x1, key, a10),
                    Vector512.FusedMultiplyAdd(x2, key, a20), Vector512.FusedMultiplyAdd(x3, key, a30));
                key = Vector512.Load(k0 + stride + c);
                (a01, a11, a21, a31) = (Vector512.FusedMultiplyAdd(x0, key, a01), Vector512.FusedMultiplyAdd(x1, key, a11),
                    Vector512.FusedMultiplyAdd(x2, key, a21), Vector512.FusedMultiplyAdd(x3, key, a31));
                key = Vector512.Load(k0 + 2 * stride + c);
                (a02, a12, a22, a32) = (Vector512.FusedMultiplyAdd(x0, key, a02), Vector512.FusedMultiplyAdd(x1, key, a12),
                    Vector512.FusedMultiplyAdd(x2, key, a22), Vector512.FusedMultiplyAdd(x3, key, a32));
                key = Vector512.Load(k0 + 3 * stride + c);
                (a03, a13, a23, a33) = (Vector512.FusedMultiplyAdd(x0, key, a03), Vector512.FusedMultiplyAdd(x1, key, a13),
                    Vector512.FusedMultiplyAdd(x2, key, a23), Vector512.FusedMultiplyAdd(x3, key, a33));
            }
            // Lane 4r + j holds row r's score against key 4·quarter + j.
            var sums = Avx512F.PermuteVar16x32(FloatReduction.Sum16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33), Unscramble);
            float* at = s + quarter * 4;
            Avx512F.ExtractVector128(sums, 0).Store(at);
            Avx512F.ExtractVector128(sums, 1).Store(at + 16);
            Avx512F.ExtractVector128(sums, 2).Store(at + 32);
            Avx512F.ExtractVector128(sums, 3).Store(at + 48);
        }
    }

    /// <summary>How cached keys of one element type are read as floats.</summary>
    internal interface IKeys
    {
        static abstract float Load1(byte* start, long index);
        static abstract Vector256<float> Load8(byte* start, long index);
        static abstract Vector512<float> Load16(byte* start, long index);
        /// <summary>One position after the last whole sixteen at the AVX-512 level.</summary>
        static abstract float Avx512Tail(float* q, byte* k, long start, int headDim);
    }

    internal struct F32Keys : IKeys
    {
        public static float Load1(byte* start, long index) => ((float*)start)[index];
        public static Vector256<float> Load8(byte* start, long index) => Vector256.Load((float*)start + index);
        public static Vector512<float> Load16(byte* start, long index) => Vector512.Load((float*)start + index);
        public static float Avx512Tail(float* q, byte* k, long start, int headDim) => Avx2Dot<F32Keys>(q, k, start, headDim);
    }

    internal struct Int8Keys : IKeys
    {
        public static float Load1(byte* start, long index) => ((sbyte*)start)[index];
        public static Vector256<float> Load8(byte* start, long index) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)start + index));
        public static Vector512<float> Load16(byte* start, long index) =>
            Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)start + index)));
        public static float Avx512Tail(float* q, byte* k, long start, int headDim) => Avx512Dot<Int8Keys>(q, k, start, headDim);
    }
}
