using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Prefill GEMM micro-kernel for Q4_0 weights: two weight rows against a <see cref="Q8Tiles"/> tile of
/// eight tokens, lanes = tokens. Per block and row: the 32 nibbles are unpacked once, each group of
/// four is broadcast to all lanes, and eight pmaddubsw (one per group, each covering all eight tokens)
/// sum in int16 (|Σ| ≤ 8·2·15·127 = 30480, no saturation) before one pmaddwd widens to int32:
/// s = Σ_j q_j·a_j exactly, and s − 8·Σa is the block's Σ (q − 8)·a. Then, per lane,
/// acc = fma(float(s), d_w·d_a, acc): one conversion and one FMA per eight (row, token) pairs where
/// the one-row kernels spend one per pair.
/// results[r·8 + k] = row r · token k.
/// </summary>
/// <remarks>
/// Each (row, token) result is the sequential sum over blocks of float(s_b)·(d_w·d_a) in one lane,
/// a different rounding order from the single-token kernel (eight partial lanes summed at the end), so
/// a token's result in such a tile can differ from decoding it alone in the last bits; the integer
/// block sums and the scales are identical. <see cref="Reference"/> is the exact specification.
/// </remarks>
internal static unsafe class DotQ4_0Tiles
{
    public static void Rows2(byte* weight0, byte* weight1, byte* tile, int blocks, float* results)
    {
        byte* unpacked = stackalloc byte[64];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        Vector256<short> ones = Vector256<short>.One;
        for (int b = 0; b < blocks; b++, weight0 += 18, weight1 += 18, tile += Q8Tiles.BlockBytes)
        {
            DotQ4_0.Nibbles(weight0).Store(unpacked);
            DotQ4_0.Nibbles(weight1).Store(unpacked + 32);
            Vector256<short> sum0 = Vector256<short>.Zero, sum1 = Vector256<short>.Zero;
            for (int j = 0; j < 8; j++)
            {
                Vector256<sbyte> a = Vector256.Load((sbyte*)tile + j * 32);
                sum0 += X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)(unpacked + j * 4)).AsByte(), a);
                sum1 += X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)(unpacked + 32 + j * 4)).AsByte(), a);
            }
            Vector256<int> offsets = Vector256.Load((int*)(tile + Q8Tiles.OffsetsAt));
            Vector256<float> scales = Vector256.Load((float*)(tile + Q8Tiles.ScalesAt));
            acc0 = Accumulate(X86.Avx2.MultiplyAddAdjacent(sum0, ones), offsets, scales, weight0, acc0);
            acc1 = Accumulate(X86.Avx2.MultiplyAddAdjacent(sum1, ones), offsets, scales, weight1, acc1);
        }
        acc0.Store(results);
        acc1.Store(results + 8);
    }

    /// <summary>Four rows at a time: each tile group loaded once for four rows instead of two.</summary>
    public static void Rows4(byte* weight0, long rowBytes, byte* tile, int blocks, float* results)
    {
        byte* unpacked = stackalloc byte[128];
        byte* weight1 = weight0 + rowBytes, weight2 = weight1 + rowBytes, weight3 = weight2 + rowBytes;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero, acc2 = Vector256<float>.Zero, acc3 = Vector256<float>.Zero;
        Vector256<short> ones = Vector256<short>.One;
        for (int b = 0; b < blocks; b++, tile += Q8Tiles.BlockBytes)
        {
            int at = b * 18;
            Unpack4(weight0 + at, weight1 + at, weight2 + at, weight3 + at, unpacked);
            Vector256<short> sum0 = Vector256<short>.Zero, sum1 = Vector256<short>.Zero, sum2 = Vector256<short>.Zero, sum3 = Vector256<short>.Zero;
            for (int j = 0; j < 8; j++)
            {
                Vector256<sbyte> a = Vector256.Load((sbyte*)tile + j * 32);
                sum0 += X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)(unpacked + j * 4)).AsByte(), a);
                sum1 += X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)(unpacked + 32 + j * 4)).AsByte(), a);
                sum2 += X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)(unpacked + 64 + j * 4)).AsByte(), a);
                sum3 += X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)(unpacked + 96 + j * 4)).AsByte(), a);
            }
            Vector256<int> offsets = Vector256.Load((int*)(tile + Q8Tiles.OffsetsAt));
            Vector256<float> scales = Vector256.Load((float*)(tile + Q8Tiles.ScalesAt));
            acc0 = Accumulate(X86.Avx2.MultiplyAddAdjacent(sum0, ones), offsets, scales, weight0 + at, acc0);
            acc1 = Accumulate(X86.Avx2.MultiplyAddAdjacent(sum1, ones), offsets, scales, weight1 + at, acc1);
            acc2 = Accumulate(X86.Avx2.MultiplyAddAdjacent(sum2, ones), offsets, scales, weight2 + at, acc2);
            acc3 = Accumulate(X86.Avx2.MultiplyAddAdjacent(sum3, ones), offsets, scales, weight3 + at, acc3);
        }
        acc0.Store(results);
        acc1.Store(results + 8);
        acc2.Store(results + 16);
        acc3.Store(results + 24);
    }

    /// <summary>
    /// <see cref="Rows4"/> with AVX-VNNI: each broadcast group of four nibbles meets the eight tokens' levels in
    /// one vpdpbusd that adds straight into int32 lanes, where pmaddubsw needs an int16 add per group and a
    /// pmaddwd per block. The same integers, so the same bits.
    /// </summary>
    public static void Rows4Vnni(byte* weight0, long rowBytes, byte* tile, int blocks, float* results) =>
        Rows4Vnni(weight0, weight0 + rowBytes, weight0 + 2 * rowBytes, weight0 + 3 * rowBytes, tile, blocks, results);

    /// <summary>Two rows through <see cref="Rows4Vnni(byte*, long, byte*, int, float*)"/>: <see cref="Q8Tiles.TwoRowsThroughFour"/>.</summary>
    public static void Rows2Vnni(byte* weight0, byte* weight1, byte* tile, int blocks, float* results) =>
        Q8Tiles.TwoRowsThroughFour(&Rows4Vnni, weight0, weight1, tile, blocks, results, Q8Tiles.Tokens);

    private static void Rows4Vnni(byte* weight0, byte* weight1, byte* weight2, byte* weight3, byte* tile, int blocks, float* results)
    {
        byte* unpacked = stackalloc byte[128];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero, acc2 = Vector256<float>.Zero, acc3 = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++, tile += Q8Tiles.BlockBytes)
        {
            int at = b * 18;
            Unpack4(weight0 + at, weight1 + at, weight2 + at, weight3 + at, unpacked);
            // Two sums per row (even and odd groups): a chain of eight dependent vpdpbusd per row was
            // latency-bound and measured no faster than the AVX2 form.
            Vector256<int> even0 = Vector256<int>.Zero, even1 = Vector256<int>.Zero, even2 = Vector256<int>.Zero, even3 = Vector256<int>.Zero;
            Vector256<int> odd0 = Vector256<int>.Zero, odd1 = Vector256<int>.Zero, odd2 = Vector256<int>.Zero, odd3 = Vector256<int>.Zero;
            for (int j = 0; j < 8; j += 2)
            {
                Vector256<sbyte> a = Vector256.Load((sbyte*)tile + j * 32), next = Vector256.Load((sbyte*)tile + j * 32 + 32);
                even0 = X86.AvxVnni.MultiplyWideningAndAdd(even0, Vector256.Create(*(int*)(unpacked + j * 4)).AsByte(), a);
                even1 = X86.AvxVnni.MultiplyWideningAndAdd(even1, Vector256.Create(*(int*)(unpacked + 32 + j * 4)).AsByte(), a);
                even2 = X86.AvxVnni.MultiplyWideningAndAdd(even2, Vector256.Create(*(int*)(unpacked + 64 + j * 4)).AsByte(), a);
                even3 = X86.AvxVnni.MultiplyWideningAndAdd(even3, Vector256.Create(*(int*)(unpacked + 96 + j * 4)).AsByte(), a);
                odd0 = X86.AvxVnni.MultiplyWideningAndAdd(odd0, Vector256.Create(*(int*)(unpacked + j * 4 + 4)).AsByte(), next);
                odd1 = X86.AvxVnni.MultiplyWideningAndAdd(odd1, Vector256.Create(*(int*)(unpacked + 32 + j * 4 + 4)).AsByte(), next);
                odd2 = X86.AvxVnni.MultiplyWideningAndAdd(odd2, Vector256.Create(*(int*)(unpacked + 64 + j * 4 + 4)).AsByte(), next);
                odd3 = X86.AvxVnni.MultiplyWideningAndAdd(odd3, Vector256.Create(*(int*)(unpacked + 96 + j * 4 + 4)).AsByte(), next);
            }
            Vector256<int> sum0 = even0 + odd0, sum1 = even1 + odd1, sum2 = even2 + odd2, sum3 = even3 + odd3;
            Vector256<int> offsets = Vector256.Load((int*)(tile + Q8Tiles.OffsetsAt));
            Vector256<float> scales = Vector256.Load((float*)(tile + Q8Tiles.ScalesAt));
            acc0 = Accumulate(sum0, offsets, scales, weight0 + at, acc0);
            acc1 = Accumulate(sum1, offsets, scales, weight1 + at, acc1);
            acc2 = Accumulate(sum2, offsets, scales, weight2 + at, acc2);
            acc3 = Accumulate(sum3, offsets, scales, weight3 + at, acc3);
        }
        acc0.Store(results);
        acc1.Store(results + 8);
        acc2.Store(results + 16);
        acc3.Store(results + 24);
    }

    /// <summary>The 32 levels q (0..15) of one block of each of four rows, row r at <paramref name="unpacked"/> + 32·r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Unpack4(byte* block0, byte* block1, byte* block2, byte* block3, byte* unpacked)
    {
        DotQ4_0.Nibbles(block0).Store(unpacked);
        DotQ4_0.Nibbles(block1).Store(unpacked + 32);
        DotQ4_0.Nibbles(block2).Store(unpacked + 64);
        DotQ4_0.Nibbles(block3).Store(unpacked + 96);
    }

    /// <summary>acc + float(Σ q·a − 8·Σa)·(d_w·d_a), lanes = tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<int> sums, Vector256<int> offsets, Vector256<float> scales, byte* weight, Vector256<float> accumulator) =>
        Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(sums - offsets),
            Vector256.Create(HalfTable.ToSingle(*(ushort*)weight)) * scales, accumulator);

    /// <summary>
    /// The reference: for each token lane of a tile <paramref name="width"/> wide, acc = fma(Σ_j (q_j − 8)·a_j,
    /// d_w·d_a, acc) block by block, in plain C#. Every tile kernel (this class's and <see cref="DotQ4_0WideTiles"/>)
    /// must equal it bit for bit.
    /// </summary>
    public static void Reference(byte* weight, byte* tile, int blocks, float* results, int width = Q8Tiles.Tokens)
    {
        for (int k = 0; k < width; k++)
        {
            float acc = 0;
            for (int b = 0; b < blocks; b++)
            {
                byte* w = weight + b * 18;
                int sum = 0;
                for (int i = 0; i < 16; i++)
                {
                    sum += ((w[2 + i] & 0xF) - 8) * Q8Tiles.Level(tile, k, b * 32 + i, width);
                    sum += ((w[2 + i] >> 4) - 8) * Q8Tiles.Level(tile, k, b * 32 + 16 + i, width);
                }
                float scale = HalfConversion.ToSingle(*(ushort*)w) * Q8Tiles.Scale(tile, k, b, width);
                acc = MathF.FusedMultiplyAdd(sum, scale, acc);
            }
            results[k] = acc;
        }
    }
}
