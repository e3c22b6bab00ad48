using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The float arithmetic every Q8_0/Q4_0 one-row kernel shares, defined so that the scalar reference
/// and each SIMD level give the same bits. Blocks are taken eight at a time: block b's exact integer
/// sum T_b is converted to float and added into lane b mod 8 as lane = fma(T_b, c_b, lane), with the
/// combined scale c_b = d_w[b]·d_a[b] (one float multiply); at the end
/// h_i = lane_i + lane_(i+4) and the result is (h_0 + h_2) + (h_1 + h_3).
/// </summary>
/// <remarks>
/// Reducing a block's integer lanes to one total before the float work means one conversion, one
/// multiply and one FMA per eight blocks instead of per block, and eight independent FMA chains.
/// </remarks>
internal static unsafe class BlockGroups
{
    /// <summary>Blocks per group, one per float lane of a 256-bit vector.</summary>
    public const int Size = 8;

    /// <summary>
    /// How far ahead of the group in hand the one-row kernels prefetch weights, in bytes. Decode streams
    /// every weight from memory once; the hardware prefetcher alone left two threads at ~80% of the
    /// machine's read bandwidth, prefetching 2-8 KB ahead reached it (4 KB measured best, and rows run
    /// on into the next, so the prefetch is not wasted at a row's end).
    /// </summary>
    public const int PrefetchDistance = 4096;

    /// <summary>
    /// Prefetches the cache lines <see cref="PrefetchDistance"/> bytes past <paramref name="weight"/>: three lines (192
    /// bytes, one Q4_0 group of 144) or five (320 bytes, a Q8_0 group of 272 or two Q4_0 groups of 288). Callers pass
    /// a constant, so once inlined the branch folds away and the loop body is the same prefetches as written out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchAhead(byte* weight, int lines)
    {
        byte* ahead = weight + PrefetchDistance;
        X86.Sse.Prefetch0(ahead);
        X86.Sse.Prefetch0(ahead + 64);
        X86.Sse.Prefetch0(ahead + 128);
        if (lines <= 3) return;
        X86.Sse.Prefetch0(ahead + 192);
        X86.Sse.Prefetch0(ahead + 256);
    }

    /// <summary>
    /// The reference: the arithmetic above, block by block, for a row of <paramref name="blocks"/>
    /// blocks of <paramref name="blockBytes"/> bytes (an f16 scale first) and the type's exact
    /// integer block sum.
    /// </summary>
    public static float Reference(byte* weight, int blockBytes, Q8Row activation, int blocks, delegate*<byte*, sbyte*, int> blockSum)
    {
        float* lanes = stackalloc float[Size];
        for (int i = 0; i < Size; i++) lanes[i] = 0;
        for (int b = 0; b < blocks; b++, weight += blockBytes)
        {
            float combined = HalfConversion.ToSingleFast(*(ushort*)weight) * activation.Scales[b];
            lanes[b % Size] = MathF.FusedMultiplyAdd(blockSum(weight, activation.Quants + b * 32), combined, lanes[b % Size]);
        }
        return Finish(Vector256.Load(lanes));
    }

    /// <summary>The end of the arithmetic above: (h_0 + h_2) + (h_1 + h_3) with h_i = lane_i + lane_(i+4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(Vector256<float> lanes)
    {
        Vector128<float> h = lanes.GetLower() + lanes.GetUpper();
        return (h.GetElement(0) + h.GetElement(2)) + (h.GetElement(1) + h.GetElement(3));
    }

    /// <summary>
    /// Eight halves, one in the upper 16 bits of each 32-bit lane (the lower 16 ignored), as floats:
    /// exactly <see cref="HalfConversion.ToSingleFast"/> per lane for every half but infinity and NaN.
    /// An arithmetic shift by 3 leaves the sign in bit 31 and exponent and mantissa in float position
    /// (the sign copies in bits 28-30 are masked off), and the product with 2^112 rebases the exponent,
    /// subnormals included. <paramref name="exponents"/> keeps the running maximum of the exponent and
    /// mantissa bits; a row whose maximum reaches <see cref="SpecialExponent"/> held an infinite or NaN
    /// scale, and its kernel recomputes it with <see cref="Reference"/> (three instructions a group
    /// cheaper than handling the case in every group).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalvesToSingle(Vector256<uint> upperHalves, ref Vector256<int> exponents)
    {
        Vector256<int> placed = Vector256.ShiftRightArithmetic(upperHalves.AsInt32(), 3) & Vector256.Create(unchecked((int)0x8FFFE000));
        exponents = Vector256.Max(exponents, placed & Vector256.Create(0x0FFFE000));
        return placed.AsSingle() * Vector256.Create(HalfConversion.TwoPow112);
    }

    /// <summary><see cref="HalvesToSingle"/> for sixteen halves (two groups) at once, lane by lane the same.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalvesToSingleWide(Vector512<uint> upperHalves, ref Vector512<int> exponents)
    {
        Vector512<int> placed = Vector512.ShiftRightArithmetic(upperHalves.AsInt32(), 3) & Vector512.Create(unchecked((int)0x8FFFE000));
        exponents = Vector512.Max(exponents, placed & Vector512.Create(0x0FFFE000));
        return placed.AsSingle() * Vector512.Create(HalfConversion.TwoPow112);
    }

    /// <summary>The placed exponent bits of a half with exponent 31 (infinity or NaN).</summary>
    public const int SpecialExponent = 0x1F << 23;

    /// <summary>True when a row's <see cref="HalvesToSingle"/> maximum shows an infinite or NaN scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HadSpecial(Vector256<int> exponents) =>
        Vector256.GreaterThanOrEqualAny(exponents, Vector256.Create(SpecialExponent));

    /// <summary>
    /// The last blocks of a row past its full groups, as the vectors a kernel adds with
    /// lane = fma(totals, combined, lane): lane j holds block <paramref name="first"/> + j's integer sum
    /// and combined scale, and lanes past the row's end hold zeros (fma(0, 0, lane) leaves lane unchanged).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Tail(byte* weight, int blockBytes, Q8Row activation, int first, int blocks,
        delegate*<byte*, sbyte*, int> blockSum, out Vector256<float> totals, out Vector256<float> combined)
    {
        totals = Vector256<float>.Zero;
        combined = Vector256<float>.Zero;
        for (int b = first; b < blocks; b++)
        {
            byte* block = weight + (nint)b * blockBytes;
            totals = totals.WithElement(b - first, (float)blockSum(block, activation.Quants + b * 32));
            combined = combined.WithElement(b - first, HalfConversion.ToSingleFast(*(ushort*)block) * activation.Scales[b]);
        }
    }
}
