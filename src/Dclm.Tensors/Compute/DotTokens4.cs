using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Prefill kernels for K-quant weights (Q8_0/Q4_0 are in <see cref="DotQ8_0Tiles"/> and <see cref="DotQ4_0Tiles"/>): one weight row against four token rows at once, so each weight block is loaded
/// and unpacked once for four tokens. Each token's arithmetic is the same, in the same order, as the
/// 256-bit single-token kernel's, so results are bit-identical to it. results[k] = row · token k.
/// Each kernel is generic over the 256-bit level's integer step (<see cref="IIntegerDot"/>: AVX2 or AVX-VNNI, the same integers).
/// </summary>
internal static unsafe class DotTokens4
{
    public static void Q4_K<TDot>(byte* weight, Q8KRow* tokens, int superBlocks, float* results) where TDot : struct, IIntegerDot
    {
        Vector256<float>* scaled = stackalloc Vector256<float>[4];
        Vector256<float>* mins = stackalloc Vector256<float>[4];
        for (int k = 0; k < 4; k++) scaled[k] = mins[k] = default;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<int>* sums = stackalloc Vector256<int>[4];
        for (int b = 0; b < superBlocks; b++, weight += Quantization.Q4_K.BlockBytes)
        {
            Vector128<byte> unpacked = DotQ4_K.UnpackScales(weight + Quantization.Q4_K.ScalesOffset);
            ulong scaleBytes = unpacked.AsUInt64().GetElement(0);
            Vector256<int> blockMins = X86.Avx2.ConvertToVector256Int32(X86.Sse2.ShiftRightLogical128BitLane(unpacked, 8));
            byte* q = weight + Quantization.Q4_K.QuantsOffset;
            for (int k = 0; k < 4; k++) sums[k] = default;
            for (int chunk = 0; chunk < 4; chunk++, q += 32, scaleBytes >>= 16)
            {
                Vector256<byte> packed = Vector256.Load(q);
                Vector256<byte> lowNibbles = packed & low, highNibbles = (packed.AsUInt16() >> 4).AsByte() & low;
                Vector256<short> lowScale = Vector256.Create((short)(scaleBytes & 0xFF)), highScale = Vector256.Create((short)((scaleBytes >> 8) & 0xFF));
                for (int k = 0; k < 4; k++)
                {
                    sbyte* a = tokens[k].Quants + b * 256 + chunk * 64;
                    sums[k] = TDot.Add(TDot.Add(sums[k], X86.Avx2.MultiplyAddAdjacent(lowNibbles, Vector256.Load(a)), lowScale),
                        X86.Avx2.MultiplyAddAdjacent(highNibbles, Vector256.Load(a + 32)), highScale);
                }
            }
            float dRaw = HalfTable.ToSingle(((ushort*)weight)[0]), dminRaw = HalfTable.ToSingle(((ushort*)weight)[1]);
            for (int k = 0; k < 4; k++)
            {
                Vector256<int> groupPairs = X86.Avx2.MultiplyAddAdjacent(Vector256.Load(tokens[k].Sums + b * 16), Vector256<short>.One);
                float da = tokens[k].Scales[b];
                scaled[k] = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(sums[k]), Vector256.Create(dRaw * da), scaled[k]);
                mins[k] = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(groupPairs * blockMins), Vector256.Create(dminRaw * da), mins[k]);
            }
        }
        for (int k = 0; k < 4; k++) results[k] = Vector256.Sum(scaled[k]) - Vector256.Sum(mins[k]);
    }

    public static void Q6_K<TDot>(byte* weight, Q8KRow* tokens, int superBlocks, float* results) where TDot : struct, IIntegerDot
    {
        Vector256<float>* accumulators = stackalloc Vector256<float>[4];
        Vector256<int>* sums = stackalloc Vector256<int>[4];
        for (int k = 0; k < 4; k++) accumulators[k] = default;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<byte> three = Vector256.Create((byte)0x03);
        for (int b = 0; b < superBlocks; b++, weight += Quantization.Q6_K.BlockBytes)
        {
            sbyte* groupScales = (sbyte*)(weight + Quantization.Q6_K.ScalesOffset);
            Vector256<short> scales = X86.Avx2.ConvertToVector256Int16(Vector128.Load(groupScales));
            byte* ql = weight, qh = weight + Quantization.Q6_K.HighOffset;
            for (int k = 0; k < 4; k++) sums[k] = default;
            for (int half = 0; half < 2; half++, ql += 64, qh += 32, groupScales += 8)
            {
                DotQ6_K.Levels(ql, qh, low, three, out Vector256<byte> level0, out Vector256<byte> level1, out Vector256<byte> level2, out Vector256<byte> level3);
                Vector256<short> scale0 = Pair(groupScales[0], groupScales[1]), scale1 = Pair(groupScales[2], groupScales[3]);
                Vector256<short> scale2 = Pair(groupScales[4], groupScales[5]), scale3 = Pair(groupScales[6], groupScales[7]);
                for (int k = 0; k < 4; k++)
                {
                    sbyte* a = tokens[k].Quants + b * 256 + half * 128;
                    Vector256<int> sum = Scaled<TDot>(sums[k], level0, a, scale0);
                    sum = Scaled<TDot>(sum, level1, a + 32, scale1);
                    sum = Scaled<TDot>(sum, level2, a + 64, scale2);
                    sums[k] = Scaled<TDot>(sum, level3, a + 96, scale3);
                }
            }
            float dw = HalfTable.ToSingle(*(ushort*)(weight + Quantization.Q6_K.ScaleOffset));
            for (int k = 0; k < 4; k++)
            {
                Vector256<int> offset = X86.Avx2.MultiplyAddAdjacent(Vector256.Load(tokens[k].Sums + b * 16), scales) << 5;
                accumulators[k] = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(sums[k] - offset), Vector256.Create(dw * tokens[k].Scales[b]), accumulators[k]);
            }
        }
        for (int k = 0; k < 4; k++) results[k] = Vector256.Sum(accumulators[k]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pair(sbyte first, sbyte second) => Vector256.Create(Vector128.Create((short)first), Vector128.Create((short)second));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scaled<TDot>(Vector256<int> sums, Vector256<byte> levels, sbyte* a, Vector256<short> scales) where TDot : struct, IIntegerDot =>
        TDot.Add(sums, X86.Avx2.MultiplyAddAdjacent(levels, Vector256.Load(a)), scales);
}
