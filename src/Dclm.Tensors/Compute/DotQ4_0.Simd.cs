using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ4_0
{
    /// <summary>
    /// Eight blocks per step, in the arithmetic of <see cref="BlockGroups"/>. Two blocks' packed nibbles
    /// side by side in one vector meet the activation's <see cref="Q8Row.Halves"/> (the two blocks'
    /// first 16 levels, then their last 16): the low- and high-nibble pmaddubsw products add in int16
    /// (|Σ| ≤ 2·2·15·127 = 7620), one pmaddwd leaves four int32 lanes per block, and unpacks and adds
    /// reduce four such vectors to the eight blocks' totals. The nibbles stay unsigned and the
    /// activation's 8·Σa per block (<see cref="Q8Row.BlockOffsets"/>) removes the -8 offset exactly.
    /// </summary>
    public static float Avx2(byte* weight, Q8Row activation, int blocks) => Dot256<PairedMultiplyAdd>(weight, activation, blocks);

    /// <summary>The <see cref="Avx2"/> kernel with vpdpbusd: two instructions per pair of blocks where it takes four.</summary>
    public static float AvxVnni(byte* weight, Q8Row activation, int blocks) => Dot256<VnniMultiplyAdd>(weight, activation, blocks);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot256<TDot>(byte* weight, Q8Row activation, int blocks) where TDot : struct, IIntegerDot
    {
        Vector256<float> lanes = Groups256<TDot>(weight, activation, blocks / BlockGroups.Size, out Vector256<int> exponents);
        return BlockGroups.HadSpecial(exponents) ? Scalar(weight, activation, blocks) : WithTail(weight, activation, blocks, lanes);
    }

    /// <summary>
    /// The same arithmetic with AVX-512 BW: three 64-byte loads per group and two-table word permutes
    /// (vpermt2w) pick out the eight blocks' packed nibbles (four blocks per vector) and their scales, and
    /// the rest runs on four blocks per instruction; about half the instructions of <see cref="Avx2"/>.
    /// </summary>
    public static float Avx512(byte* weight, Q8Row activation, int blocks) => Dot512(weight, activation, blocks);

    /// <summary>Adds the blocks past the last full group to <paramref name="lanes"/> and finishes the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WithTail(byte* weight, Q8Row activation, int blocks, Vector256<float> lanes)
    {
        int full = blocks / BlockGroups.Size * BlockGroups.Size;
        if (full < blocks)
        {
            BlockGroups.Tail(weight, 18, activation, full, blocks, &BlockSum, out var totals, out var combined);
            lanes = Vector256.FusedMultiplyAdd(totals, combined, lanes);
        }
        return BlockGroups.Finish(lanes);
    }

    /// <summary>
    /// The lanes of <see cref="BlockGroups"/> after the row's first <paramref name="groups"/> groups of
    /// eight blocks, and the maximum of their scales' exponent bits (see <see cref="BlockGroups.HalvesToSingle"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Groups256<TDot>(byte* weight, Q8Row activation, int groups, out Vector256<int> exponents) where TDot : struct, IIntegerDot
    {
        Vector256<float> lanes = Vector256<float>.Zero;
        Vector256<int> seen = Vector256<int>.Zero;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        // Reduce leaves blocks in lanes (0, 2, 4, 6, 1, 3, 5, 7); this puts block j in lane j.
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        sbyte* halves = activation.Halves;
        int* offsets = activation.BlockOffsets;
        float* scales = activation.Scales;
        for (int g = 0; g < groups; g++, weight += 144, halves += 256, offsets += 8, scales += 8)
        {
            BlockGroups.PrefetchAhead(weight, lines: 3);
            Vector256<int> s01 = PairSums<TDot>(weight, halves, low);
            Vector256<int> s23 = PairSums<TDot>(weight + 36, halves + 32, low);
            Vector256<int> s45 = PairSums<TDot>(weight + 72, halves + 128, low);
            Vector256<int> s67 = PairSums<TDot>(weight + 108, halves + 160, low);
            Vector256<int> totals = X86.Avx2.PermuteVar8x32(Reduce(s01, s23, s45, s67), order) - Vector256.Load(offsets);
            Vector256<float> combined = BlockGroups.HalvesToSingle(GatheredScales.Read(weight, 18), ref seen) * Vector256.Load(scales);
            lanes = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(totals), combined, lanes);
        }
        exponents = seen;
        return lanes;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> GroupsAvx512(byte* weight, Q8Row activation, int groups, out Vector256<int> exponents)
    {
        Vector256<float> lanes = Vector256<float>.Zero;
        Vector256<int> seen = Vector256<int>.Zero;
        Vector512<short> ones = Vector512<short>.One;
        Vector512<byte> low = Vector512.Create((byte)0x0F);
        Vector512<ushort> first = NibbleWords03, second = NibbleWords47, scaleWords = ScaleWords;
        Vector512<int> order = BlockOrder;
        sbyte* halves = activation.Halves;
        int* offsets = activation.BlockOffsets;
        float* scales = activation.Scales;
        int g = 0;
        // Two groups a step: their totals, scales and conversions run sixteen lanes wide, then the two FMAs into the
        // lanes go in group order, so every lane sees the same operations as one group at a time.
        Vector512<int> seen2 = Vector512<int>.Zero;
        Vector512<int> order2 = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 16, 20, 24, 28, 17, 21, 25, 29);
        for (; g + 2 <= groups; g += 2, weight += 288, halves += 512, offsets += 16, scales += 16)
        {
            BlockGroups.PrefetchAhead(weight, lines: 5);
            Vector512<ushort> a0 = Vector512.Load((ushort*)weight), a64 = Vector512.Load((ushort*)(weight + 64));
            Vector512<ushort> b0 = Vector512.Load((ushort*)(weight + 144)), b64 = Vector512.Load((ushort*)(weight + 208));
            Vector512<int> ua = GroupSums(a0, a64, Vector512.Load((ushort*)(weight + 80)), halves, first, second, low, ones);
            Vector512<int> ub = GroupSums(b0, b64, Vector512.Load((ushort*)(weight + 224)), halves + 256, first, second, low, ones);
            Vector512<int> totals = X86.Avx512F.PermuteVar16x32x2(ua, order2, ub) - Vector512.Load(offsets);
            Vector512<uint> halfBits = Vector512.Create(
                X86.Avx512BW.PermuteVar32x16x2(a0, scaleWords, a64).AsUInt32().GetLower(),
                X86.Avx512BW.PermuteVar32x16x2(b0, scaleWords, b64).AsUInt32().GetLower());
            Vector512<float> combined = BlockGroups.HalvesToSingleWide(halfBits, ref seen2) * Vector512.Load(scales);
            Vector512<float> converted = X86.Avx512F.ConvertToVector512Single(totals);
            lanes = Vector256.FusedMultiplyAdd(converted.GetLower(), combined.GetLower(), lanes);
            lanes = Vector256.FusedMultiplyAdd(converted.GetUpper(), combined.GetUpper(), lanes);
        }
        seen = Vector256.Max(seen2.GetLower(), seen2.GetUpper());
        for (; g < groups; g++, weight += 144, halves += 256, offsets += 8, scales += 8)
        {
            BlockGroups.PrefetchAhead(weight, lines: 3);
            Vector512<ushort> bytes0 = Vector512.Load((ushort*)weight), bytes64 = Vector512.Load((ushort*)(weight + 64));
            Vector512<byte> packed03 = X86.Avx512BW.PermuteVar32x16x2(bytes0, first, bytes64).AsByte();
            Vector512<byte> packed47 = X86.Avx512BW.PermuteVar32x16x2(bytes64, second, Vector512.Load((ushort*)(weight + 80))).AsByte();
            Vector512<int> s03 = QuadSums(packed03, halves, low, ones);
            Vector512<int> s47 = QuadSums(packed47, halves + 128, low, ones);
            // Per 128-bit lane i (blocks i and 4 + i): pairwise sums, then the two halves added.
            Vector512<int> u = X86.Avx512F.UnpackLow(s03, s47) + X86.Avx512F.UnpackHigh(s03, s47);
            u += X86.Avx512F.Shuffle(u, 0b01_00_11_10);
            Vector256<int> totals = X86.Avx512F.PermuteVar16x32(u, order).GetLower() - Vector256.Load(offsets);
            Vector256<uint> halfBits = X86.Avx512BW.PermuteVar32x16x2(bytes0, scaleWords, bytes64).AsUInt32().GetLower();
            Vector256<float> combined = BlockGroups.HalvesToSingle(halfBits, ref seen) * Vector256.Load(scales);
            lanes = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(totals), combined, lanes);
        }
        exponents = seen;
        return lanes;
    }

    /// <summary>
    /// The word permute (vpermt2w) of a group's bytes [0, 64) and [64, 128) onto blocks 0..3's nibbles: block k's
    /// 8 words of nibbles are words 9k+1..9k+8, its scale word 9k.
    /// </summary>
    private static Vector512<ushort> NibbleWords03
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create((ushort)1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17,
            19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 35);
    }

    /// <summary>Blocks 4..7's nibbles (words 37..71) from bytes [64, 128) (index = word − 32) and [80, 144) (index = word − 8).</summary>
    private static Vector512<ushort> NibbleWords47
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create((ushort)5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21,
            23, 24, 25, 26, 27, 28, 29, 30, 32 + 24, 32 + 25, 32 + 26, 32 + 27, 32 + 28, 32 + 29, 32 + 30, 32 + 31);
    }

    /// <summary>The eight blocks' scale words from bytes [0, 128), each twice to fill a dword of the lower 256 bits (<see cref="BlockGroups.HalvesToSingle"/> reads the upper half).</summary>
    private static Vector512<ushort> ScaleWords
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create((ushort)0, 0, 9, 9, 18, 18, 27, 27, 36, 36, 45, 45, 54, 54, 63, 63,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>After <see cref="GroupSums"/>' reduction block j &lt; 4 sums in dword 4j and block 4 + j in dword 4j + 1: this gathers them in block order.</summary>
    private static Vector512<int> BlockOrder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>
    /// One group's block sums from its bytes [0, 64), [64, 128) and [80, 144) as <see cref="GroupsAvx512"/> reduces them:
    /// block j &lt; 4 in dword 4j, block 4 + j in dword 4j + 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> GroupSums(Vector512<ushort> bytes0, Vector512<ushort> bytes64, Vector512<ushort> bytes80, sbyte* halves,
        Vector512<ushort> first, Vector512<ushort> second, Vector512<byte> low, Vector512<short> ones)
    {
        Vector512<byte> packed03 = X86.Avx512BW.PermuteVar32x16x2(bytes0, first, bytes64).AsByte();
        Vector512<byte> packed47 = X86.Avx512BW.PermuteVar32x16x2(bytes64, second, bytes80).AsByte();
        Vector512<int> s03 = QuadSums(packed03, halves, low, ones);
        Vector512<int> s47 = QuadSums(packed47, halves + 128, low, ones);
        Vector512<int> u = X86.Avx512F.UnpackLow(s03, s47) + X86.Avx512F.UnpackHigh(s03, s47);
        return u + X86.Avx512F.Shuffle(u, 0b01_00_11_10);
    }

    /// <summary>Four blocks' packed nibbles against their regrouped halves: four int32 lane sums Σ q·a per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> QuadSums(Vector512<byte> packed, sbyte* halves, Vector512<byte> low, Vector512<short> ones)
    {
        Vector512<byte> lowNibbles = packed & low;
        Vector512<byte> highNibbles = (packed.AsUInt16() >>> 4).AsByte() & low;
        Vector512<short> products = X86.Avx512BW.MultiplyAddAdjacent(lowNibbles, Vector512.Load(halves))
            + X86.Avx512BW.MultiplyAddAdjacent(highNibbles, Vector512.Load(halves + 64));
        return X86.Avx512BW.MultiplyAddAdjacent(products, ones);
    }

    /// <summary>
    /// The totals of eight blocks from four vectors of four lanes per block (blocks 0, 1 | 2, 3 | 4, 5 | 6, 7),
    /// in lanes (0, 2, 4, 6, 1, 3, 5, 7): unpacks and adds, single-cycle instructions where phaddd is three.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Reduce(Vector256<int> s01, Vector256<int> s23, Vector256<int> s45, Vector256<int> s67)
    {
        Vector256<int> u = X86.Avx2.UnpackLow(s01, s23) + X86.Avx2.UnpackHigh(s01, s23);
        Vector256<int> v = X86.Avx2.UnpackLow(s45, s67) + X86.Avx2.UnpackHigh(s45, s67);
        return X86.Avx2.UnpackLow(u.AsInt64(), v.AsInt64()).AsInt32() + X86.Avx2.UnpackHigh(u.AsInt64(), v.AsInt64()).AsInt32();
    }

    /// <summary>Blocks b and b+1 (weight at block b): four int32 lane sums Σ q·a of each, block b first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairSums<TDot>(byte* weight, sbyte* halves, Vector256<byte> low) where TDot : struct, IIntegerDot
    {
        Vector256<byte> packed = Vector256.Create(Vector128.Load(weight + 2), Vector128.Load(weight + 20));
        Vector256<byte> lowNibbles = packed & low;
        Vector256<byte> highNibbles = (packed.AsUInt16() >>> 4).AsByte() & low;
        return TDot.Sum(lowNibbles, Vector256.Load(halves), highNibbles, Vector256.Load(halves + 64));
    }

    /// <summary>A block's 32 nibbles as bytes: the low nibbles (elements 0..15), then the high ones (16..31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Nibbles(byte* weight)
    {
        Vector128<byte> low = Vector128.Create((byte)0x0F);
        Vector128<byte> packed = Vector128.Load(weight + 2);
        return Vector256.Create(packed & low, (packed.AsUInt16() >> 4).AsByte() & low);
    }
}
