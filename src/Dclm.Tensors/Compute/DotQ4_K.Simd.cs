using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ4_K
{
    /// <summary>
    /// Unpacks the twelve scale bytes into eight 6-bit scales (low 8 bytes of the result) and eight
    /// 6-bit mins (high 8 bytes), the same bits <see cref="Q4_K.ScaleMin"/> reads one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<byte> UnpackScales(byte* packed)
    {
        const uint Low6 = 0x3F3F3F3F, Low4 = 0x0F0F0F0F, Low2 = 0x03030303;
        uint u0 = *(uint*)packed, u1 = *(uint*)(packed + 4), u2 = *(uint*)(packed + 8);
        uint scalesLow = u0 & Low6;
        uint scalesHigh = (u2 & Low4) | (((u0 >> 6) & Low2) << 4);
        uint minsLow = u1 & Low6;
        uint minsHigh = ((u2 >> 4) & Low4) | (((u1 >> 6) & Low2) << 4);
        return Vector128.Create(scalesLow, scalesHigh, minsLow, minsHigh).AsByte();
    }

    /// <summary>
    /// Per 64-value chunk one 512-bit step: the 32 nibble bytes twice, shifted by (0, 4) per half, give
    /// the chunk's low and high sub-blocks in element order; pmaddubsw with the activations, then
    /// pmaddwd with each sub-block's scale. The mins meet the activation group sums separately.
    /// </summary>
    public static float Avx512(byte* weight, Q8KRow activation, int superBlocks)
    {
        Vector512<float> scaledAccumulator = Vector512<float>.Zero;
        Vector256<float> minAccumulator = Vector256<float>.Zero;
        Vector512<ushort> shifts = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)4));
        Vector512<byte> low = Vector512.Create((byte)0x0F);
        Vector512<short> index0 = Vector512.Create(Vector256.Create((short)0), Vector256.Create((short)1));
        Vector512<short> two = Vector512.Create((short)2);
        for (int b = 0; b < superBlocks; b++, weight += Q4_K.BlockBytes)
        {
            Vector128<byte> unpacked = UnpackScales(weight + Q4_K.ScalesOffset);
            Vector512<short> scales = X86.Sse41.ConvertToVector128Int16(unpacked).ToVector256Unsafe().ToVector512Unsafe();
            sbyte* a = activation.Quants + b * 256;
            byte* q = weight + Q4_K.QuantsOffset;
            Vector512<int> sums = Vector512<int>.Zero;
            Vector512<short> index = index0;
            for (int chunk = 0; chunk < 4; chunk++, q += 32, a += 64, index += two)
            {
                Vector256<byte> packed = Vector256.Load(q);
                Vector512<byte> nibbles = X86.Avx512BW.ShiftRightLogicalVariable(packed.ToVector512Unsafe().WithUpper(packed).AsUInt16(), shifts).AsByte() & low;
                Vector512<short> products = X86.Avx512BW.MultiplyAddAdjacent(nibbles, Vector512.Load(a));
                sums += X86.Avx512BW.MultiplyAddAdjacent(products, X86.Avx512BW.PermuteVar32x16(scales, index));
            }
            float d = AddMinTerm(weight, unpacked, activation, b, ref minAccumulator);
            scaledAccumulator = Vector512.FusedMultiplyAdd(X86.Avx512F.ConvertToVector512Single(sums), Vector512.Create(d), scaledAccumulator);
        }
        return Vector512.Sum(scaledAccumulator) - Vector256.Sum(minAccumulator);
    }

    /// <summary>
    /// Super-block b's min term, the same at every width: minAccumulator += float(min_s·Σa_s of each pair of sub-blocks)·
    /// (dmin_w·d_a), with the mins in bytes 8..15 of the unpacked scales. Returns d_w·d_a, the factor of its scaled sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float AddMinTerm(byte* weight, Vector128<byte> unpackedScales, Q8KRow activation, int b, ref Vector256<float> minAccumulator)
    {
        Vector256<int> mins = X86.Avx2.ConvertToVector256Int32(X86.Sse2.ShiftRightLogical128BitLane(unpackedScales, 8));
        Vector256<int> groupPairs = X86.Avx2.MultiplyAddAdjacent(Vector256.Load(activation.Sums + b * 16), Vector256<short>.One);
        float da = activation.Scales[b];
        float dmin = HalfTable.ToSingle(((ushort*)weight)[1]) * da;
        minAccumulator = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(groupPairs * mins), Vector256.Create(dmin), minAccumulator);
        return HalfTable.ToSingle(((ushort*)weight)[0]) * da;
    }

    /// <summary>The same per 32-value sub-block with 256-bit vectors.</summary>
    public static float Avx2(byte* weight, Q8KRow activation, int superBlocks) => Dot256<PairedMultiplyAdd>(weight, activation, superBlocks);

    /// <summary>The <see cref="Avx2"/> kernel with vpdpwssd adding each sub-block's scaled products.</summary>
    public static float AvxVnni(byte* weight, Q8KRow activation, int superBlocks) => Dot256<VnniMultiplyAdd>(weight, activation, superBlocks);

    private static float Dot256<TDot>(byte* weight, Q8KRow activation, int superBlocks) where TDot : struct, IIntegerDot
    {
        Vector256<float> scaledAccumulator = Vector256<float>.Zero;
        Vector256<float> minAccumulator = Vector256<float>.Zero;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        for (int b = 0; b < superBlocks; b++, weight += Q4_K.BlockBytes)
        {
            Vector128<byte> unpacked = UnpackScales(weight + Q4_K.ScalesOffset);
            ulong scaleBytes = unpacked.AsUInt64().GetElement(0);
            sbyte* a = activation.Quants + b * 256;
            byte* q = weight + Q4_K.QuantsOffset;
            // Low and high sub-blocks in two sums: one chain of eight dependent vpdpwssd was latency-bound.
            Vector256<int> lowSums = Vector256<int>.Zero, highSums = Vector256<int>.Zero;
            for (int chunk = 0; chunk < 4; chunk++, q += 32, a += 64, scaleBytes >>= 16)
            {
                Vector256<byte> packed = Vector256.Load(q);
                Vector256<short> lowProducts = X86.Avx2.MultiplyAddAdjacent(packed & low, Vector256.Load(a));
                Vector256<short> highProducts = X86.Avx2.MultiplyAddAdjacent((packed.AsUInt16() >> 4).AsByte() & low, Vector256.Load(a + 32));
                lowSums = TDot.Add(lowSums, lowProducts, Vector256.Create((short)(scaleBytes & 0xFF)));
                highSums = TDot.Add(highSums, highProducts, Vector256.Create((short)((scaleBytes >> 8) & 0xFF)));
            }
            Vector256<int> sums = lowSums + highSums;
            float d = AddMinTerm(weight, unpacked, activation, b, ref minAccumulator);
            scaledAccumulator = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(sums), Vector256.Create(d), scaledAccumulator);
        }
        return Vector256.Sum(scaledAccumulator) - Vector256.Sum(minAccumulator);
    }
}
