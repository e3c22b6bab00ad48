using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ8_0
{
    /// <summary>
    /// Eight blocks per step, in the arithmetic of <see cref="BlockGroups"/>. Each block's products
    /// come from psignb and pmaddubsw (the weight's sign moved onto the activation: |w|·(sign(w)·a) = w·a,
    /// exact because activations never hold -128, and |-128| = 128 is still right as an unsigned byte),
    /// then pmaddwd; a phaddd tree and one 128-bit swap reduce the eight blocks' lanes to their totals.
    /// The scales type reads the scales; the AVX-512 level differs only there.
    /// </summary>
    public static float Avx2(byte* weight, Q8Row activation, int blocks) => Dot<GatheredScales, PairedMultiplyAdd>(weight, activation, blocks);

    /// <summary>The <see cref="Avx2"/> kernel with vpdpbusd in place of pmaddubsw + pmaddwd.</summary>
    public static float AvxVnni(byte* weight, Q8Row activation, int blocks) => Dot<GatheredScales, VnniMultiplyAdd>(weight, activation, blocks);

    /// <summary>The same kernel with the scales read by <see cref="PermutedScales"/>.</summary>
    public static float Avx512(byte* weight, Q8Row activation, int blocks) => Dot<PermutedScales, PairedMultiplyAdd>(weight, activation, blocks);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot<TScales, TDot>(byte* weight, Q8Row activation, int blocks) where TScales : struct, IGroupScales where TDot : struct, IIntegerDot
    {
        int groups = blocks / BlockGroups.Size;
        Vector256<float> lanes = Groups<TScales, TDot>(weight, activation, groups, out Vector256<int> exponents);
        if (BlockGroups.HadSpecial(exponents)) return Scalar(weight, activation, blocks);
        if (groups * BlockGroups.Size < blocks)
        {
            BlockGroups.Tail(weight, 34, activation, groups * BlockGroups.Size, blocks, &BlockSum, out var totals, out var combined);
            lanes = Vector256.FusedMultiplyAdd(totals, combined, lanes);
        }
        return BlockGroups.Finish(lanes);
    }

    /// <summary>
    /// The lanes of <see cref="BlockGroups"/> after the row's first <paramref name="groups"/> groups of
    /// eight blocks, and the maximum of their scales' exponent bits (see <see cref="BlockGroups.HalvesToSingle"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Groups<TScales, TDot>(byte* weight, Q8Row activation, int groups, out Vector256<int> exponents) where TScales : struct, IGroupScales where TDot : struct, IIntegerDot
    {
        Vector256<float> lanes = Vector256<float>.Zero;
        Vector256<int> seen = Vector256<int>.Zero;
        sbyte* a = activation.Quants;
        float* scales = activation.Scales;
        for (int g = 0; g < groups; g++, weight += 272, a += 256, scales += 8)
        {
            BlockGroups.PrefetchAhead(weight, lines: 5);
            // Per 128-bit half: (b0, b1, b2, b3) partial sums of blocks 0..3, lanes 0-3 then 4-7 of each block.
            Vector256<int> first = X86.Avx2.HorizontalAdd(
                X86.Avx2.HorizontalAdd(BlockSums<TDot>(weight, a), BlockSums<TDot>(weight + 34, a + 32)),
                X86.Avx2.HorizontalAdd(BlockSums<TDot>(weight + 68, a + 64), BlockSums<TDot>(weight + 102, a + 96)));
            Vector256<int> second = X86.Avx2.HorizontalAdd(
                X86.Avx2.HorizontalAdd(BlockSums<TDot>(weight + 136, a + 128), BlockSums<TDot>(weight + 170, a + 160)),
                X86.Avx2.HorizontalAdd(BlockSums<TDot>(weight + 204, a + 192), BlockSums<TDot>(weight + 238, a + 224)));
            Vector256<int> totals = X86.Avx2.Permute2x128(first, second, 0x20) + X86.Avx2.Permute2x128(first, second, 0x31);
            Vector256<float> combined = BlockGroups.HalvesToSingle(TScales.Read(weight, 34), ref seen) * Vector256.Load(scales);
            lanes = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(totals), combined, lanes);
        }
        exponents = seen;
        return lanes;
    }

    /// <summary>The eight int32 lane sums of one block: |w| times sign(w)·a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSums<TDot>(byte* weight, sbyte* a) where TDot : struct, IIntegerDot
    {
        Vector256<sbyte> w = Vector256.Load((sbyte*)weight + 2);
        return TDot.Sum(X86.Avx2.Abs(w), X86.Avx2.Sign(Vector256.Load(a), w));
    }
}
