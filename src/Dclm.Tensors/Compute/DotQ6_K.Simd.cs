using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ6_K
{
    /// <summary>
    /// Per 128-value half two 512-bit steps. The 6-bit levels stay unsigned (0..63) for pmaddubsw; the
    /// -32 offset is removed once per super-block as 32·Σ_g scale[g]·Σ_group a, from the activation's
    /// group sums. Low nibbles of the 64 ql bytes are values 0..63 in order, high nibbles 64..127; the
    /// qh byte pairs (0, 2) and (4, 6) add their top two bits.
    /// </summary>
    public static float Avx512(byte* weight, Q8KRow activation, int superBlocks)
    {
        Vector512<float> accumulator = Vector512<float>.Zero;
        Vector512<byte> low = Vector512.Create((byte)0x0F);
        Vector512<byte> three = Vector512.Create((byte)0x03);
        Vector512<ushort> firstShifts = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)2));
        Vector512<ushort> secondShifts = Vector512.Create(Vector256.Create((ushort)4), Vector256.Create((ushort)6));
        // Group g of 16 values uses scale g: 8 shorts per group after pmaddubsw.
        Vector512<short> groups0 = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, (short)3);
        Vector512<short> four = Vector512.Create((short)4);
        for (int b = 0; b < superBlocks; b++, weight += Q6_K.BlockBytes)
        {
            Vector256<short> scales = X86.Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)(weight + Q6_K.ScalesOffset)));
            Vector512<short> scales512 = scales.ToVector512Unsafe();
            sbyte* a = activation.Quants + b * 256;
            byte* ql = weight, qh = weight + Q6_K.HighOffset;
            Vector512<int> sums = Vector512<int>.Zero;
            Vector512<short> index = groups0;
            for (int half = 0; half < 2; half++, ql += 64, qh += 32, a += 128)
            {
                Vector512<byte> packedLow = Vector512.Load(ql);
                Vector256<byte> packedHigh = Vector256.Load(qh);
                Vector512<ushort> highTwice = packedHigh.ToVector512Unsafe().WithUpper(packedHigh).AsUInt16();
                Vector512<byte> top0 = ((X86.Avx512BW.ShiftRightLogicalVariable(highTwice, firstShifts).AsByte() & three).AsUInt16() << 4).AsByte();
                Vector512<byte> top1 = ((X86.Avx512BW.ShiftRightLogicalVariable(highTwice, secondShifts).AsByte() & three).AsUInt16() << 4).AsByte();
                Vector512<byte> levels0 = (packedLow & low) | top0;
                Vector512<byte> levels1 = ((packedLow.AsUInt16() >> 4).AsByte() & low) | top1;
                Vector512<short> products0 = X86.Avx512BW.MultiplyAddAdjacent(levels0, Vector512.Load(a));
                Vector512<short> products1 = X86.Avx512BW.MultiplyAddAdjacent(levels1, Vector512.Load(a + 64));
                sums += X86.Avx512BW.MultiplyAddAdjacent(products0, X86.Avx512BW.PermuteVar32x16(scales512, index));
                index += four;
                sums += X86.Avx512BW.MultiplyAddAdjacent(products1, X86.Avx512BW.PermuteVar32x16(scales512, index));
                index += four;
            }
            Vector256<int> offset = X86.Avx2.MultiplyAddAdjacent(Vector256.Load(activation.Sums + b * 16), scales) << 5;
            Vector512<int> total = sums - offset.ToVector512Unsafe().WithUpper(Vector256<int>.Zero);
            float d = HalfTable.ToSingle(*(ushort*)(weight + Q6_K.ScaleOffset)) * activation.Scales[b];
            accumulator = Vector512.FusedMultiplyAdd(X86.Avx512F.ConvertToVector512Single(total), Vector512.Create(d), accumulator);
        }
        return Vector512.Sum(accumulator);
    }

    /// <summary>The same with 256-bit vectors, 32 values per step.</summary>
    public static float Avx2(byte* weight, Q8KRow activation, int superBlocks) => Dot256<PairedMultiplyAdd>(weight, activation, superBlocks);

    /// <summary>The <see cref="Avx2"/> kernel with vpdpwssd adding each group's scaled products.</summary>
    public static float AvxVnni(byte* weight, Q8KRow activation, int superBlocks) => Dot256<VnniMultiplyAdd>(weight, activation, superBlocks);

    private static float Dot256<TDot>(byte* weight, Q8KRow activation, int superBlocks) where TDot : struct, IIntegerDot
    {
        Vector256<float> accumulator = Vector256<float>.Zero;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<byte> three = Vector256.Create((byte)0x03);
        for (int b = 0; b < superBlocks; b++, weight += Q6_K.BlockBytes)
        {
            sbyte* groupScales = (sbyte*)(weight + Q6_K.ScalesOffset);
            Vector256<short> scales = X86.Avx2.ConvertToVector256Int16(Vector128.Load(groupScales));
            sbyte* a = activation.Quants + b * 256;
            byte* ql = weight, qh = weight + Q6_K.HighOffset;
            // Two sums, so that no chain of dependent vpdpwssd runs longer than four.
            Vector256<int> sums = Vector256<int>.Zero, more = Vector256<int>.Zero;
            for (int half = 0; half < 2; half++, ql += 64, qh += 32, a += 128, groupScales += 8)
            {
                Levels(ql, qh, low, three, out Vector256<byte> level0, out Vector256<byte> level1, out Vector256<byte> level2, out Vector256<byte> level3);
                sums = Scaled<TDot>(sums, level0, a, groupScales[0], groupScales[1]);
                more = Scaled<TDot>(more, level1, a + 32, groupScales[2], groupScales[3]);
                sums = Scaled<TDot>(sums, level2, a + 64, groupScales[4], groupScales[5]);
                more = Scaled<TDot>(more, level3, a + 96, groupScales[6], groupScales[7]);
            }
            sums += more;
            Vector256<int> offset = X86.Avx2.MultiplyAddAdjacent(Vector256.Load(activation.Sums + b * 16), scales) << 5;
            float d = HalfTable.ToSingle(*(ushort*)(weight + Q6_K.ScaleOffset)) * activation.Scales[b];
            accumulator = Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(sums - offset), Vector256.Create(d), accumulator);
        }
        return Vector256.Sum(accumulator);
    }

    /// <summary>
    /// Half a super-block's levels (0..63) as four runs of 32 bytes (values 0..31, 32..63, 64..95, 96..127 of the half):
    /// low nibbles from the 64 bytes at <paramref name="ql"/>, the two high bits from the 32 bytes at <paramref name="qh"/>.
    /// <paramref name="low"/> is 0x0F and <paramref name="three"/> 0x03 in every byte, held by the caller across its loop.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static void Levels(byte* ql, byte* qh, Vector256<byte> low, Vector256<byte> three,
        out Vector256<byte> level0, out Vector256<byte> level1, out Vector256<byte> level2, out Vector256<byte> level3)
    {
        Vector256<byte> low0 = Vector256.Load(ql), low1 = Vector256.Load(ql + 32);
        Vector256<byte> high = Vector256.Load(qh);
        level0 = (low0 & low) | ((high & three).AsUInt16() << 4).AsByte();
        level1 = (low1 & low) | ((((high.AsUInt16() >> 2).AsByte() & three).AsUInt16()) << 4).AsByte();
        level2 = ((low0.AsUInt16() >> 4).AsByte() & low) | ((((high.AsUInt16() >> 4).AsByte() & three).AsUInt16()) << 4).AsByte();
        level3 = ((low1.AsUInt16() >> 4).AsByte() & low) | ((((high.AsUInt16() >> 6).AsByte() & three).AsUInt16()) << 4).AsByte();
    }

    /// <summary>sums + Σ level·a over 32 values as 8 int lanes, the first 16 values weighted by scale0, the rest by scale1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scaled<TDot>(Vector256<int> sums, Vector256<byte> levels, sbyte* a, sbyte scale0, sbyte scale1) where TDot : struct, IIntegerDot
    {
        Vector256<short> products = X86.Avx2.MultiplyAddAdjacent(levels, Vector256.Load(a));
        return TDot.Add(sums, products, Vector256.Create(Vector128.Create((short)scale0), Vector128.Create((short)scale1)));
    }
}
