using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The AVX-512 prefill kernel for Q4_0 weights: four weight rows against a <see cref="Q8Tiles"/> tile of
/// sixteen tokens, lanes = tokens, the arithmetic of <see cref="DotQ4_0Tiles"/> at twice the width. Per block
/// and row the 32 nibbles are unpacked once; each group of four is broadcast to all sixteen lanes and one
/// 512-bit pmaddubsw multiplies it with four levels of every token; the eight groups add in int16
/// (|Σ| ≤ 8·2·15·127 = 30480) before one pmaddwd widens them. .NET 10 has no 512-bit vpdpbusd, and at full
/// width (Zen 5) these 512-bit pmaddubsw steps do a block in fewer instructions than the 256-bit VNNI tiles:
/// 25 against 32 per 512 multiply-adds. results[r·16 + k] = row r · token k; equal to
/// <see cref="DotQ4_0Tiles.Reference"/> at width 16 bit for bit.
/// </summary>
internal static unsafe class DotQ4_0WideTiles
{
    public static void Rows4(byte* weight0, long rowBytes, byte* tile, int blocks, float* results) =>
        Rows4(weight0, weight0 + rowBytes, weight0 + 2 * rowBytes, weight0 + 3 * rowBytes, tile, blocks, results);

    /// <summary>Two rows through <see cref="Rows4(byte*, long, byte*, int, float*)"/>: <see cref="Q8Tiles.TwoRowsThroughFour"/>.</summary>
    public static void Rows2(byte* weight0, byte* weight1, byte* tile, int blocks, float* results) =>
        Q8Tiles.TwoRowsThroughFour(&Rows4, weight0, weight1, tile, blocks, results, Q8Tiles.WideTokens);

    private static void Rows4(byte* weight0, byte* weight1, byte* weight2, byte* weight3, byte* tile, int blocks, float* results)
    {
        byte* unpacked = stackalloc byte[128];
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero, acc2 = Vector512<float>.Zero, acc3 = Vector512<float>.Zero;
        Vector512<short> ones = Vector512<short>.One;
        for (int b = 0; b < blocks; b++, tile += Q8Tiles.WideBlockBytes)
        {
            int at = b * 18;
            DotQ4_0Tiles.Unpack4(weight0 + at, weight1 + at, weight2 + at, weight3 + at, unpacked);
            Vector512<short> sum0 = Vector512<short>.Zero, sum1 = Vector512<short>.Zero, sum2 = Vector512<short>.Zero, sum3 = Vector512<short>.Zero;
            for (int j = 0; j < 8; j++)
            {
                Vector512<sbyte> a = Vector512.Load((sbyte*)tile + j * 64);
                sum0 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + j * 4)).AsByte(), a);
                sum1 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + 32 + j * 4)).AsByte(), a);
                sum2 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + 64 + j * 4)).AsByte(), a);
                sum3 += X86.Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(unpacked + 96 + j * 4)).AsByte(), a);
            }
            Vector512<int> offsets = Vector512.Load((int*)(tile + Q8Tiles.WideOffsetsAt));
            Vector512<float> scales = Vector512.Load((float*)(tile + Q8Tiles.WideScalesAt));
            acc0 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum0, ones), offsets, scales, weight0 + at, acc0);
            acc1 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum1, ones), offsets, scales, weight1 + at, acc1);
            acc2 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum2, ones), offsets, scales, weight2 + at, acc2);
            acc3 = Accumulate(X86.Avx512BW.MultiplyAddAdjacent(sum3, ones), offsets, scales, weight3 + at, acc3);
        }
        acc0.Store(results);
        acc1.Store(results + 16);
        acc2.Store(results + 32);
        acc3.Store(results + 48);
    }

    /// <summary>acc + float(Σ q·a − 8·Σa)·(d_w·d_a), lanes = tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Accumulate(Vector512<int> sums, Vector512<int> offsets, Vector512<float> scales, byte* weight, Vector512<float> accumulator) =>
        Vector512.FusedMultiplyAdd(X86.Avx512F.ConvertToVector512Single(sums - offsets),
            Vector512.Create(HalfTable.ToSingle(*(ushort*)weight)) * scales, accumulator);
}
