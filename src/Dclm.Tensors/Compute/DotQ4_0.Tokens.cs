using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ4_0
{
    /// <summary>
    /// One Q4_0 weight row against <paramref name="count"/> activation rows (at most <see cref="FewTokens.MaxTokens"/>):
    /// results[t] = row · tokens[t], each the bits <see cref="Scalar"/> gives for that token alone (the same
    /// <see cref="BlockGroups"/> arithmetic, token by token); for the reference every level is tested against.
    /// </summary>
    public static void TokensScalar(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++)
            for (int t = 0; t < count; t++) results[r * count + t] = Scalar(weight + r * rowBytes, tokens[t], blocks);
    }

    /// <summary>
    /// <see cref="TokensScalar"/> with the <see cref="Avx2"/> kernel's arithmetic: each group's packed nibbles and
    /// scales are loaded, unpacked and converted once, then met by every token's activations, so a verification step
    /// of a few tokens streams and unpacks each weight block once instead of once per token.
    /// </summary>
    public static void TokensAvx2(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results) =>
        FewTokens.Run(weight, rowBytes, rowCount, tokens, count, blocks, results, &TokenGroups256<PairedMultiplyAdd>, &FinishTokens);

    /// <summary><see cref="TokensAvx2"/> with vpdpbusd (the same integers, so the same bits).</summary>
    public static void TokensAvxVnni(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results) =>
        FewTokens.Run(weight, rowBytes, rowCount, tokens, count, blocks, results, &TokenGroups256<VnniMultiplyAdd>, &FinishTokens);

    /// <summary><see cref="TokensScalar"/> with the <see cref="Avx512"/> kernel's arithmetic, unpacking shared as in <see cref="TokensAvx2"/>.</summary>
    public static void TokensAvx512(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results) =>
        FewTokens.Run(weight, rowBytes, rowCount, tokens, count, blocks, results, &TokenGroupsAvx512, &FinishTokens);

    /// <summary>Each token's tail and final sum, or the reference for every token when a scale was infinite or NaN.</summary>
    private static void FinishTokens(byte* weight, Q8Row* tokens, int count, int blocks, Vector256<float>* lanes, Vector256<int> exponents, float* results)
    {
        bool special = BlockGroups.HadSpecial(exponents);
        for (int t = 0; t < count; t++)
            results[t] = special ? Scalar(weight, tokens[t], blocks) : WithTail(weight, tokens[t], blocks, lanes[t]);
    }

    /// <summary>The lanes of <see cref="Groups256{TDot}"/> for every token, each group's weights unpacked once.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<int> TokenGroups256<TDot>(byte* weight, Q8Row* tokens, int count, int firstGroup, int endGroup, Vector256<float>* lanes, Vector256<int> seen) where TDot : struct, IIntegerDot
    {
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        weight += firstGroup * 144;
        for (int g = firstGroup; g < endGroup; g++, weight += 144)
        {
            BlockGroups.PrefetchAhead(weight, lines: 3);
            // Blocks (0, 1), (2, 3), (4, 5), (6, 7) side by side, as PairSums reads them.
            Vector256<byte> p01 = Vector256.Create(Vector128.Load(weight + 2), Vector128.Load(weight + 20));
            Vector256<byte> p23 = Vector256.Create(Vector128.Load(weight + 38), Vector128.Load(weight + 56));
            Vector256<byte> p45 = Vector256.Create(Vector128.Load(weight + 74), Vector128.Load(weight + 92));
            Vector256<byte> p67 = Vector256.Create(Vector128.Load(weight + 110), Vector128.Load(weight + 128));
            Vector256<byte> low01 = p01 & low, high01 = (p01.AsUInt16() >>> 4).AsByte() & low;
            Vector256<byte> low23 = p23 & low, high23 = (p23.AsUInt16() >>> 4).AsByte() & low;
            Vector256<byte> low45 = p45 & low, high45 = (p45.AsUInt16() >>> 4).AsByte() & low;
            Vector256<byte> low67 = p67 & low, high67 = (p67.AsUInt16() >>> 4).AsByte() & low;
            Vector256<float> weightScales = BlockGroups.HalvesToSingle(GatheredScales.Read(weight, 18), ref seen);
            for (int t = 0; t < count; t++)
            {
                Q8Row row = tokens[t];
                sbyte* halves = row.Halves + g * 256;
                Vector256<int> s01 = TDot.Sum(low01, Vector256.Load(halves), high01, Vector256.Load(halves + 64));
                Vector256<int> s23 = TDot.Sum(low23, Vector256.Load(halves + 32), high23, Vector256.Load(halves + 96));
                Vector256<int> s45 = TDot.Sum(low45, Vector256.Load(halves + 128), high45, Vector256.Load(halves + 192));
                Vector256<int> s67 = TDot.Sum(low67, Vector256.Load(halves + 160), high67, Vector256.Load(halves + 224));
                Vector256<int> totals = X86.Avx2.PermuteVar8x32(Reduce(s01, s23, s45, s67), order) - Vector256.Load(row.BlockOffsets + g * 8);
                Vector256<float> combined = weightScales * Vector256.Load(row.Scales + g * 8);
                lanes[t] = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(totals), combined, lanes[t]);
            }
        }
        return seen;
    }

    /// <summary>The lanes of <see cref="GroupsAvx512"/> for every token, each group's weights unpacked once.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<int> TokenGroupsAvx512(byte* weight, Q8Row* tokens, int count, int firstGroup, int endGroup, Vector256<float>* lanes, Vector256<int> seen)
    {
        Vector512<short> ones = Vector512<short>.One;
        Vector512<byte> low = Vector512.Create((byte)0x0F);
        Vector512<ushort> first = NibbleWords03, second = NibbleWords47, scaleWords = ScaleWords;
        Vector512<int> order = BlockOrder;
        weight += firstGroup * 144;
        for (int g = firstGroup; g < endGroup; g++, weight += 144)
        {
            BlockGroups.PrefetchAhead(weight, lines: 3);
            Vector512<ushort> bytes0 = Vector512.Load((ushort*)weight), bytes64 = Vector512.Load((ushort*)(weight + 64));
            Vector512<byte> packed03 = X86.Avx512BW.PermuteVar32x16x2(bytes0, first, bytes64).AsByte();
            Vector512<byte> packed47 = X86.Avx512BW.PermuteVar32x16x2(bytes64, second, Vector512.Load((ushort*)(weight + 80))).AsByte();
            Vector512<byte> low03 = packed03 & low, high03 = (packed03.AsUInt16() >>> 4).AsByte() & low;
            Vector512<byte> low47 = packed47 & low, high47 = (packed47.AsUInt16() >>> 4).AsByte() & low;
            Vector256<uint> halfBits = X86.Avx512BW.PermuteVar32x16x2(bytes0, scaleWords, bytes64).AsUInt32().GetLower();
            Vector256<float> weightScales = BlockGroups.HalvesToSingle(halfBits, ref seen);
            for (int t = 0; t < count; t++)
            {
                Q8Row row = tokens[t];
                sbyte* halves = row.Halves + g * 256;
                Vector512<int> s03 = X86.Avx512BW.MultiplyAddAdjacent(
                    X86.Avx512BW.MultiplyAddAdjacent(low03, Vector512.Load(halves)) + X86.Avx512BW.MultiplyAddAdjacent(high03, Vector512.Load(halves + 64)), ones);
                Vector512<int> s47 = X86.Avx512BW.MultiplyAddAdjacent(
                    X86.Avx512BW.MultiplyAddAdjacent(low47, Vector512.Load(halves + 128)) + X86.Avx512BW.MultiplyAddAdjacent(high47, Vector512.Load(halves + 192)), ones);
                Vector512<int> u = X86.Avx512F.UnpackLow(s03, s47) + X86.Avx512F.UnpackHigh(s03, s47);
                u += X86.Avx512F.Shuffle(u, 0b01_00_11_10);
                Vector256<int> totals = X86.Avx512F.PermuteVar16x32(u, order).GetLower() - Vector256.Load(row.BlockOffsets + g * 8);
                Vector256<float> combined = weightScales * Vector256.Load(row.Scales + g * 8);
                lanes[t] = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(totals), combined, lanes[t]);
            }
        }
        return seen;
    }
}
