using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86 = System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ4_0
{
    /// <summary>
    /// Four blocks per step in two 512-bit halves. The nibbles stay unsigned (pmaddubsw's left
    /// operand) and the activation row's precomputed 8·Σa per int32 lane removes the -8 offset exactly.
    /// </summary>
    public static float Avx512(byte* weight, Q8Row activation, int blocks)
    {
        float* scales = stackalloc float[BlockScales.Run + 8];
        Vector512<float> accumulator0 = Vector512<float>.Zero, accumulator1 = Vector512<float>.Zero;
        Vector512<short> ones = Vector512<short>.One;
        Vector512<int> pair01 = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        Vector512<int> pair23 = pair01 + Vector512.Create(2);
        // 128-bit lanes (A, A, B, B) shifted right by (0, 4, 0, 4) bits hold (A low, A high, B low, B high).
        Vector512<ushort> shifts = Vector512.Create(Vector256.Create(Vector128<ushort>.Zero, Vector128.Create((ushort)4)),
                                                    Vector256.Create(Vector128<ushort>.Zero, Vector128.Create((ushort)4)));
        int* offsets = activation.NibbleOffsets;
        sbyte* a = activation.Quants;
        float sum = 0;
        for (int start = 0; start < blocks; start += BlockScales.Run)
        {
            int run = Math.Min(BlockScales.Run, blocks - start);
            byte* w = weight + start * 18;
            sbyte* x = a + start * 32;
            int* o = offsets + start * 8;
            BlockScales.Combine(w, 18, activation.Scales + start, run, scales);
            int b = 0;
            for (; b + 4 <= run; b += 4, w += 72, x += 128, o += 32)
            {
                Vector512<float> four = Vector256.Load(scales + b).ToVector512Unsafe();
                accumulator0 = Vector512.FusedMultiplyAdd(Pair(w, x, o, shifts, ones), Avx512F.PermuteVar16x32(four, pair01), accumulator0);
                accumulator1 = Vector512.FusedMultiplyAdd(Pair(w + 36, x + 64, o + 16, shifts, ones), Avx512F.PermuteVar16x32(four, pair23), accumulator1);
            }
            for (; b < run; b++, w += 18, x += 32) sum += BlockSum(w, x) * scales[b];
        }
        return sum + Vector512.Sum(accumulator0 + accumulator1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(byte* w, sbyte* x, int* offsets, Vector512<ushort> shifts, Vector512<short> ones)
    {
        Vector512<int> first = Avx512F.BroadcastVector128ToVector512((int*)(w + 2));
        Vector512<int> second = Avx512F.BroadcastVector128ToVector512((int*)(w + 20));
        Vector512<ushort> packed = Avx512F.Shuffle4x128(first, second, 0b01_00_01_00).AsUInt16();
        Vector512<byte> nibbles = Avx512BW.ShiftRightLogicalVariable(packed, shifts).AsByte() & Vector512.Create((byte)0x0F);
        Vector512<int> sums = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(nibbles, Vector512.Load(x)), ones) - Vector512.Load(offsets);
        return Avx512F.ConvertToVector512Single(sums);
    }

    /// <summary>
    /// One block per 256-bit step; see <see cref="Avx512"/>. Each block's integer sums are scaled as
    /// (Σ·d_a)·d_w with a single accumulator, in the same order as the Q4_0 kernels of
    /// <see cref="DotTokensQ8"/>, so a token's result is the same in a small batch as alone. No
    /// stackalloc on purpose: it keeps the method eligible for tiered recompilation, and the
    /// combined-scale form (a scale pass ahead of the loop) measured 40% slower here.
    /// </summary>
    public static float Avx2(byte* weight, Q8Row activation, int blocks)
    {
        Vector256<float> accumulator = Vector256<float>.Zero;
        Vector256<short> ones = Vector256<short>.One;
        sbyte* a = activation.Quants;
        int* offsets = activation.NibbleOffsets;
        float* scales = activation.Scales;
        for (int b = 0; b < blocks; b++, weight += 18, a += 32, offsets += 8)
            accumulator = Vector256.FusedMultiplyAdd(BlockSums(Nibbles(weight), a, offsets, ones) * Vector256.Create(scales[b]),
                Vector256.Create(HalfTable.ToSingle(*(ushort*)weight)), accumulator);
        return Vector256.Sum(accumulator);
    }

    /// <summary>A block's 32 nibbles as bytes: the low nibbles (elements 0..15), then the high ones (16..31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Nibbles(byte* weight)
    {
        Vector128<byte> low = Vector128.Create((byte)0x0F);
        Vector128<byte> packed = Vector128.Load(weight + 2);
        return Vector256.Create(packed & low, (packed.AsUInt16() >> 4).AsByte() & low);
    }

    /// <summary>The eight int32 lane sums Σ(q - 8)·a of one block, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> BlockSums(Vector256<byte> nibbles, sbyte* a, int* offsets, Vector256<short> ones) =>
        Avx.ConvertToVector256Single(X86.Avx2.MultiplyAddAdjacent(X86.Avx2.MultiplyAddAdjacent(nibbles, Vector256.Load(a)), ones) - Vector256.Load(offsets));
}
