using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Compute;

namespace Dclm.Models;

/// <summary>
/// Attention over one KV block of sixteen positions at once (AVX-512, head widths a multiple of 16):
/// sixteen query·key dot products reduced together by transposing shuffles instead of one horizontal
/// sum each, and the weighted sum of values kept in registers across the block. For 32-wide heads
/// (the default model's) the per-position horizontal sums cost more than the multiply-adds.
/// </summary>
internal static unsafe class AttentionBlocks
{
    /// <summary>Sixteen positions per call.</summary>
    public const int Positions = 16;

    /// <summary>Lane 4k + r of <see cref="FloatReduction.Sum16"/> holds input 4r + k; this puts input i back in lane i.</summary>
    private static readonly Vector512<int> Unscramble = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);

    /// <summary>True when the <c>Scores</c> and <c>AddWeighted</c> kernels (f32 and int8 caches) serve heads of <paramref name="headDim"/>.</summary>
    public static bool Supports(int headDim) => Avx512F.IsSupported && headDim % 16 == 0 && headDim <= 256;

    /// <summary>scores[i] = q · keys[i·stride .. +headDim] for the sixteen positions of a block.</summary>
    public static void Scores(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, int stride, int headDim, Span<float> scores)
    {
        CheckScores(query.Length, keys.Length, stride, headDim, scores.Length);
        fixed (float* q = query)
        fixed (float* k = keys)
        fixed (float* s = scores)
            Scores<Floats>(q, (byte*)k, stride, headDim, s);
    }

    /// <summary>The same over int8 keys, before their scales: scores[i] = q · keys[i·stride .. +headDim].</summary>
    public static void Scores(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> keys, int stride, int headDim, Span<float> scores)
    {
        CheckScores(query.Length, keys.Length, stride, headDim, scores.Length);
        fixed (float* q = query)
        fixed (sbyte* k = keys)
        fixed (float* s = scores)
            Scores<Int8s>(q, (byte*)k, stride, headDim, s);
    }

    /// <summary>
    /// output += Σ_i weights[i] · values[i·stride .. +headDim] over <paramref name="count"/> positions, in
    /// position order with one fused multiply-add each: per element the arithmetic of adding them one by one.
    /// </summary>
    public static void AddWeighted(ReadOnlySpan<float> values, int stride, int count, int headDim, ReadOnlySpan<float> weights, Span<float> output)
    {
        CheckWeighted(values.Length, stride, count, headDim, weights.Length, output.Length);
        fixed (float* v = values)
        fixed (float* w = weights)
        fixed (float* o = output)
            AddWeighted<Floats>((byte*)v, stride, count, headDim, w, o);
    }

    /// <summary>The same over int8 values (each weight already multiplied by its value's scale).</summary>
    public static void AddWeighted(ReadOnlySpan<sbyte> values, int stride, int count, int headDim, ReadOnlySpan<float> weights, Span<float> output)
    {
        CheckWeighted(values.Length, stride, count, headDim, weights.Length, output.Length);
        fixed (sbyte* v = values)
        fixed (float* w = weights)
        fixed (float* o = output)
            AddWeighted<Int8s>((byte*)v, stride, count, headDim, w, o);
    }

    /// <summary>q · k for one position's int8 key (before its scale), widened as <see cref="Scores(ReadOnlySpan{float}, ReadOnlySpan{sbyte}, int, int, Span{float})"/> widens.</summary>
    public static float Dot(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> key)
    {
        if (key.Length < query.Length || query.Length % 16 != 0) throw new ArgumentException("the key must cover the query, a multiple of sixteen wide");
        fixed (float* q = query)
        fixed (sbyte* k = key)
        {
            var sum = Vector512<float>.Zero;
            for (int c = 0; c < query.Length; c += 16) sum = Vector512.FusedMultiplyAdd(Vector512.Load(q + c), Int8s.Load16((byte*)k, c), sum);
            return Vector512.Sum(sum);
        }
    }

    private static void CheckScores(int query, int keys, int stride, int headDim, int scores)
    {
        if (keys < 15 * stride + headDim || query < headDim || scores < Positions) throw new ArgumentException("a block needs sixteen keys, a query and sixteen scores");
    }

    private static void CheckWeighted(int values, int stride, int count, int headDim, int weights, int output)
    {
        if (count < 0 || count > weights || output < headDim || (count > 0 && values < (count - 1) * stride + headDim))
            throw new ArgumentException("values, weights and output do not fit");
    }

    /// <summary>Sixteen cached elements, from element <c>index</c> on, as floats.</summary>
    private interface IElements
    {
        static abstract Vector512<float> Load16(byte* start, long index);
    }

    private struct Floats : IElements
    {
        public static Vector512<float> Load16(byte* start, long index) => Vector512.Load((float*)start + index);
    }

    private struct Int8s : IElements
    {
        public static Vector512<float> Load16(byte* start, long index) =>
            Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)start + index)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores<T>(float* q, byte* k, long stride, int headDim, float* s) where T : struct, IElements
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        for (int c = 0; c < headDim; c += 16)
        {
            var x = Vector512.Load(q + c);
            a0 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c), a0);
            a1 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + stride), a1);
            a2 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 2 * stride), a2);
            a3 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 3 * stride), a3);
            a4 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 4 * stride), a4);
            a5 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 5 * stride), a5);
            a6 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 6 * stride), a6);
            a7 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 7 * stride), a7);
            a8 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 8 * stride), a8);
            a9 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 9 * stride), a9);
            a10 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 10 * stride), a10);
            a11 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 11 * stride), a11);
            a12 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 12 * stride), a12);
            a13 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 13 * stride), a13);
            a14 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 14 * stride), a14);
            a15 = Vector512.FusedMultiplyAdd(x, T.Load16(k, c + 15 * stride), a15);
        }
        var sums = FloatReduction.Sum16(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
        Avx512F.PermuteVar16x32(sums, Unscramble).Store(s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddWeighted<T>(byte* v, long stride, int count, int headDim, float* w, float* o) where T : struct, IElements
    {
        for (int c = 0; c < headDim; c += 16)
        {
            var sum = Vector512.Load(o + c);
            for (int i = 0; i < count; i++)
                sum = Vector512.FusedMultiplyAdd(T.Load16(v, c + i * stride), Vector512.Create(w[i]), sum);
            sum.Store(o + c);
        }
    }
}
