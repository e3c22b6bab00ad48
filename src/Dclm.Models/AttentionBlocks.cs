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

    /// <summary>True when <see cref="Scores"/> and <see cref="AddWeighted"/> serve heads of <paramref name="headDim"/>.</summary>
    public static bool Supports(int headDim) => Avx512F.IsSupported && headDim % 16 == 0 && headDim <= 256;

    /// <summary>scores[i] = q · keys[i·stride .. +headDim] for the sixteen positions of a block.</summary>
    public static void Scores(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, int stride, int headDim, Span<float> scores)
    {
        if (keys.Length < 15 * stride + headDim || query.Length < headDim || scores.Length < Positions) throw new ArgumentException("a block needs sixteen keys, a query and sixteen scores");
        fixed (float* q = query)
        fixed (float* k = keys)
        fixed (float* s = scores)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            Vector512<float> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
            for (int c = 0; c < headDim; c += 16)
            {
                var x = Vector512.Load(q + c);
                float* key = k + c;
                a0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key), a0);
                a1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + stride), a1);
                a2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 2 * stride), a2);
                a3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 3 * stride), a3);
                a4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 4 * stride), a4);
                a5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 5 * stride), a5);
                a6 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 6 * stride), a6);
                a7 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 7 * stride), a7);
                a8 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 8 * stride), a8);
                a9 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 9 * stride), a9);
                a10 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 10 * stride), a10);
                a11 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 11 * stride), a11);
                a12 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 12 * stride), a12);
                a13 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 13 * stride), a13);
                a14 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 14 * stride), a14);
                a15 = Vector512.FusedMultiplyAdd(x, Vector512.Load(key + 15 * stride), a15);
            }
            var sums = FloatReduction.Sum16(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
            Avx512F.PermuteVar16x32(sums, Unscramble).Store(s);
        }
    }

    /// <summary>
    /// output += Σ_i weights[i] · values[i·stride .. +headDim] over <paramref name="count"/> positions, in
    /// position order with one fused multiply-add each: per element the arithmetic of adding them one by one.
    /// </summary>
    public static void AddWeighted(ReadOnlySpan<float> values, int stride, int count, int headDim, ReadOnlySpan<float> weights, Span<float> output)
    {
        if (count < 0 || count > weights.Length || output.Length < headDim || (count > 0 && values.Length < (count - 1) * stride + headDim))
            throw new ArgumentException("values, weights and output do not fit");
        fixed (float* v = values)
        fixed (float* w = weights)
        fixed (float* o = output)
        {
            for (int c = 0; c < headDim; c += 16)
            {
                var sum = Vector512.Load(o + c);
                float* value = v + c;
                for (int i = 0; i < count; i++, value += stride)
                    sum = Vector512.FusedMultiplyAdd(Vector512.Load(value), Vector512.Create(w[i]), sum);
                sum.Store(o + c);
            }
        }
    }
}
