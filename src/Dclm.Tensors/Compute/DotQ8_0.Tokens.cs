using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ8_0
{
    /// <summary>
    /// One Q8_0 weight row against <paramref name="count"/> activation rows (at most <see cref="FewTokens.MaxTokens"/>):
    /// results[t] = row · tokens[t], each the bits <see cref="Scalar"/> gives for that token alone; the reference
    /// every level is tested against.
    /// </summary>
    public static void TokensScalar(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++)
            for (int t = 0; t < count; t++) results[r * count + t] = Scalar(weight + r * rowBytes, tokens[t], blocks);
    }

    /// <summary>
    /// <see cref="TokensScalar"/> in the <see cref="Avx2"/> kernel's arithmetic: each group's eight weight blocks are
    /// loaded (with their magnitudes and scales) once and met by every token's activations.
    /// </summary>
    public static void TokensAvx2(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results) =>
        FewTokens.Run(weight, rowBytes, rowCount, tokens, count, blocks, results, &TokenGroups<GatheredScales, PairedMultiplyAdd>, &FinishTokens);

    /// <summary><see cref="TokensAvx2"/> with vpdpbusd (the same integers, so the same bits).</summary>
    public static void TokensAvxVnni(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results) =>
        FewTokens.Run(weight, rowBytes, rowCount, tokens, count, blocks, results, &TokenGroups<GatheredScales, VnniMultiplyAdd>, &FinishTokens);

    /// <summary><see cref="TokensAvx2"/> with the scales read by <see cref="PermutedScales"/>, as <see cref="Avx512"/>.</summary>
    public static void TokensAvx512(byte* weight, long rowBytes, int rowCount, Q8Row* tokens, int count, int blocks, float* results) =>
        FewTokens.Run(weight, rowBytes, rowCount, tokens, count, blocks, results, &TokenGroups<PermutedScales, PairedMultiplyAdd>, &FinishTokens);

    /// <summary>Each token's tail and final sum, or the reference for every token when a scale was infinite or NaN.</summary>
    private static void FinishTokens(byte* weight, Q8Row* tokens, int count, int blocks, Vector256<float>* lanes, Vector256<int> exponents, float* results)
    {
        int groups = blocks / BlockGroups.Size;
        bool special = BlockGroups.HadSpecial(exponents);
        for (int t = 0; t < count; t++)
        {
            if (special) { results[t] = Scalar(weight, tokens[t], blocks); continue; }
            Vector256<float> tokenLanes = lanes[t];
            if (groups * BlockGroups.Size < blocks)
            {
                BlockGroups.Tail(weight, 34, tokens[t], groups * BlockGroups.Size, blocks, &BlockSum, out var totals, out var combined);
                tokenLanes = Vector256.FusedMultiplyAdd(totals, combined, tokenLanes);
            }
            results[t] = BlockGroups.Finish(tokenLanes);
        }
    }

    /// <summary>The lanes of <see cref="Groups{TScales, TDot}"/> for every token, each group's weights read once.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<int> TokenGroups<TScales, TDot>(byte* weight, Q8Row* tokens, int count, int firstGroup, int endGroup, Vector256<float>* lanes, Vector256<int> seen)
        where TScales : struct, IGroupScales where TDot : struct, IIntegerDot
    {
        weight += firstGroup * 272;
        for (int g = firstGroup; g < endGroup; g++, weight += 272)
        {
            BlockGroups.PrefetchAhead(weight, lines: 5);
            Vector256<sbyte> w0 = Vector256.Load((sbyte*)weight + 2), w1 = Vector256.Load((sbyte*)weight + 36);
            Vector256<sbyte> w2 = Vector256.Load((sbyte*)weight + 70), w3 = Vector256.Load((sbyte*)weight + 104);
            Vector256<sbyte> w4 = Vector256.Load((sbyte*)weight + 138), w5 = Vector256.Load((sbyte*)weight + 172);
            Vector256<sbyte> w6 = Vector256.Load((sbyte*)weight + 206), w7 = Vector256.Load((sbyte*)weight + 240);
            Vector256<byte> m0 = X86.Avx2.Abs(w0), m1 = X86.Avx2.Abs(w1), m2 = X86.Avx2.Abs(w2), m3 = X86.Avx2.Abs(w3);
            Vector256<byte> m4 = X86.Avx2.Abs(w4), m5 = X86.Avx2.Abs(w5), m6 = X86.Avx2.Abs(w6), m7 = X86.Avx2.Abs(w7);
            Vector256<float> weightScales = BlockGroups.HalvesToSingle(TScales.Read(weight, 34), ref seen);
            for (int t = 0; t < count; t++)
            {
                Q8Row row = tokens[t];
                sbyte* a = row.Quants + g * 256;
                // The reduction tree of Groups: block sums' lanes, per 128-bit half blocks 0..3 then 4..7.
                Vector256<int> first = X86.Avx2.HorizontalAdd(
                    X86.Avx2.HorizontalAdd(TDot.Sum(m0, X86.Avx2.Sign(Vector256.Load(a), w0)), TDot.Sum(m1, X86.Avx2.Sign(Vector256.Load(a + 32), w1))),
                    X86.Avx2.HorizontalAdd(TDot.Sum(m2, X86.Avx2.Sign(Vector256.Load(a + 64), w2)), TDot.Sum(m3, X86.Avx2.Sign(Vector256.Load(a + 96), w3))));
                Vector256<int> second = X86.Avx2.HorizontalAdd(
                    X86.Avx2.HorizontalAdd(TDot.Sum(m4, X86.Avx2.Sign(Vector256.Load(a + 128), w4)), TDot.Sum(m5, X86.Avx2.Sign(Vector256.Load(a + 160), w5))),
                    X86.Avx2.HorizontalAdd(TDot.Sum(m6, X86.Avx2.Sign(Vector256.Load(a + 192), w6)), TDot.Sum(m7, X86.Avx2.Sign(Vector256.Load(a + 224), w7))));
                Vector256<int> totals = X86.Avx2.Permute2x128(first, second, 0x20) + X86.Avx2.Permute2x128(first, second, 0x31);
                Vector256<float> combined = weightScales * Vector256.Load(row.Scales + g * 8);
                lanes[t] = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(totals), combined, lanes[t]);
            }
        }
        return seen;
    }
}
