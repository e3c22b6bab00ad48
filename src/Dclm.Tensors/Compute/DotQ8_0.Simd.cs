using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86 = System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ8_0
{
    /// <summary>
    /// Four blocks per step in two 512-bit halves. pmaddubsw needs an unsigned left operand, so the
    /// weight's sign moves onto the activation: |w|·(sign(w)·a) = w·a, exact because activations never
    /// hold -128 (and |−128| = 128 is still right as an unsigned byte).
    /// </summary>
    public static float Avx512(byte* weight, Q8Row activation, int blocks)
    {
        float* scales = stackalloc float[BlockScales.Run + 8];
        Vector512<float> accumulator0 = Vector512<float>.Zero, accumulator1 = Vector512<float>.Zero;
        Vector512<short> ones = Vector512<short>.One;
        Vector512<int> pair01 = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        Vector512<int> pair23 = pair01 + Vector512.Create(2);
        sbyte* a = activation.Quants;
        float sum = 0;
        for (int start = 0; start < blocks; start += BlockScales.Run)
        {
            int run = Math.Min(BlockScales.Run, blocks - start);
            byte* w = weight + start * 34;
            sbyte* x = a + start * 32;
            BlockScales.Combine(w, 34, activation.Scales + start, run, scales);
            int b = 0;
            for (; b + 4 <= run; b += 4, w += 136, x += 128)
            {
                Vector512<float> four = Vector256.Load(scales + b).ToVector512Unsafe();
                accumulator0 = Vector512.FusedMultiplyAdd(Pair(w, x, ones), Avx512F.PermuteVar16x32(four, pair01), accumulator0);
                accumulator1 = Vector512.FusedMultiplyAdd(Pair(w + 68, x + 64, ones), Avx512F.PermuteVar16x32(four, pair23), accumulator1);
            }
            for (; b < run; b++, w += 34, x += 32) sum += BlockSum(w, x) * scales[b];
        }
        return sum + Vector512.Sum(accumulator0 + accumulator1);
    }

    /// <summary>The integer sums of two consecutive blocks as floats, eight lanes each.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(byte* w, sbyte* x, Vector512<short> ones)
    {
        Vector512<sbyte> q = Vector256.Load((sbyte*)w + 2).ToVector512Unsafe().WithUpper(Vector256.Load((sbyte*)w + 36));
        Vector512<sbyte> a = Vector512.Load(x);
        Vector512<sbyte> signed = Vector512.ConditionalSelect(Vector512.LessThan(q, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - a, a);
        return Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(q), signed), ones));
    }

    /// <summary>
    /// One block per 256-bit step, the sign moved with psignb, each block's integer sums scaled by the
    /// combined scale d_w·d_a of <see cref="BlockScales"/>. A single accumulator in the same order as
    /// <see cref="DotTokensQ8"/>, so decode and prefill give identical results (two accumulators
    /// measured no faster: the loop is bound by memory, not FMA latency).
    /// </summary>
    public static float Avx2(byte* weight, Q8Row activation, int blocks)
    {
        float* scales = stackalloc float[BlockScales.Run];
        Vector256<float> accumulator = Vector256<float>.Zero;
        Vector256<short> ones = Vector256<short>.One;
        sbyte* a = activation.Quants;
        for (int start = 0; start < blocks; start += BlockScales.Run)
        {
            int run = Math.Min(BlockScales.Run, blocks - start);
            BlockScales.Combine(weight, 34, activation.Scales + start, run, scales);
            for (int b = 0; b < run; b++, weight += 34, a += 32)
                accumulator = Vector256.FusedMultiplyAdd(BlockSums(weight, a, ones), Vector256.Create(scales[b]), accumulator);
        }
        return Vector256.Sum(accumulator);
    }

    /// <summary>The eight int32 lane sums of one block (pmaddubsw then pmaddwd), as floats.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> BlockSums(byte* weight, sbyte* a, Vector256<short> ones)
    {
        Vector256<sbyte> w = Vector256.Load((sbyte*)weight + 2);
        return Avx.ConvertToVector256Single(X86.Avx2.MultiplyAddAdjacent(
            X86.Avx2.MultiplyAddAdjacent(X86.Avx2.Abs(w), X86.Avx2.Sign(Vector256.Load(a), w)), ones));
    }
}
