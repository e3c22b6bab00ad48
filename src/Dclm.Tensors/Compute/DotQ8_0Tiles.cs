using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Prefill GEMM micro-kernel for Q8_0 weights: two weight rows against a <see cref="Q8Tiles"/> tile of
/// eight tokens, lanes = tokens. Per block and row, each group of four weights is broadcast to all
/// lanes; pmaddubsw needs an unsigned left operand, so it multiplies |w| with sign(w)·a (exact:
/// activations never hold −128), and pmaddwd widens each group to int32 at once (two groups could
/// reach 2·32258 and saturate int16). Then per lane acc = fma(float(s), d_w·d_a, acc): one
/// conversion and one FMA per eight (row, token) pairs. results[r·8 + k] = row r · token k.
/// </summary>
/// <remarks>
/// As with <see cref="DotQ4_0Tiles"/>, each (row, token) result sums the exact integer block sums in
/// one lane, block by block, so it can differ in the last bits from decoding the token alone;
/// <see cref="Reference"/> is the exact specification.
/// </remarks>
internal static unsafe class DotQ8_0Tiles
{
    public static void Rows2(byte* weight0, byte* weight1, byte* tile, int blocks, float* results)
    {
        byte* magnitudes = stackalloc byte[64];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        Vector256<short> ones = Vector256<short>.One;
        for (int b = 0; b < blocks; b++, weight0 += 34, weight1 += 34, tile += Q8Tiles.BlockBytes)
        {
            X86.Avx2.Abs(Vector256.Load((sbyte*)weight0 + 2)).Store(magnitudes);
            X86.Avx2.Abs(Vector256.Load((sbyte*)weight1 + 2)).Store(magnitudes + 32);
            Vector256<int> sum0 = Vector256<int>.Zero, sum1 = Vector256<int>.Zero;
            for (int j = 0; j < 8; j++)
            {
                Vector256<sbyte> a = Vector256.Load((sbyte*)tile + j * 32);
                sum0 += Group(magnitudes + j * 4, weight0 + 2 + j * 4, a, ones);
                sum1 += Group(magnitudes + 32 + j * 4, weight1 + 2 + j * 4, a, ones);
            }
            Vector256<float> scales = Vector256.Load((float*)(tile + Q8Tiles.ScalesAt));
            acc0 = Accumulate(sum0, scales, weight0, acc0);
            acc1 = Accumulate(sum1, scales, weight1, acc1);
        }
        acc0.Store(results);
        acc1.Store(results + 8);
    }

    /// <summary>Four rows at a time: each tile group loaded once for four rows instead of two.</summary>
    public static void Rows4(byte* weight0, long rowBytes, byte* tile, int blocks, float* results)
    {
        byte* magnitudes = stackalloc byte[128];
        byte* weight1 = weight0 + rowBytes, weight2 = weight1 + rowBytes, weight3 = weight2 + rowBytes;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero, acc2 = Vector256<float>.Zero, acc3 = Vector256<float>.Zero;
        Vector256<short> ones = Vector256<short>.One;
        for (int b = 0; b < blocks; b++, tile += Q8Tiles.BlockBytes)
        {
            int at = b * 34;
            X86.Avx2.Abs(Vector256.Load((sbyte*)weight0 + at + 2)).Store(magnitudes);
            X86.Avx2.Abs(Vector256.Load((sbyte*)weight1 + at + 2)).Store(magnitudes + 32);
            X86.Avx2.Abs(Vector256.Load((sbyte*)weight2 + at + 2)).Store(magnitudes + 64);
            X86.Avx2.Abs(Vector256.Load((sbyte*)weight3 + at + 2)).Store(magnitudes + 96);
            Vector256<int> sum0 = Vector256<int>.Zero, sum1 = Vector256<int>.Zero, sum2 = Vector256<int>.Zero, sum3 = Vector256<int>.Zero;
            for (int j = 0; j < 8; j++)
            {
                Vector256<sbyte> a = Vector256.Load((sbyte*)tile + j * 32);
                int group = at + 2 + j * 4;
                sum0 += Group(magnitudes + j * 4, weight0 + group, a, ones);
                sum1 += Group(magnitudes + 32 + j * 4, weight1 + group, a, ones);
                sum2 += Group(magnitudes + 64 + j * 4, weight2 + group, a, ones);
                sum3 += Group(magnitudes + 96 + j * 4, weight3 + group, a, ones);
            }
            Vector256<float> scales = Vector256.Load((float*)(tile + Q8Tiles.ScalesAt));
            acc0 = Accumulate(sum0, scales, weight0 + at, acc0);
            acc1 = Accumulate(sum1, scales, weight1 + at, acc1);
            acc2 = Accumulate(sum2, scales, weight2 + at, acc2);
            acc3 = Accumulate(sum3, scales, weight3 + at, acc3);
        }
        acc0.Store(results);
        acc1.Store(results + 8);
        acc2.Store(results + 16);
        acc3.Store(results + 24);
    }

    /// <summary>
    /// <see cref="Rows4"/> with AVX-VNNI, whose vpdpbusd adds four byte products straight into an int32 lane
    /// (no int16 step to saturate): the weights are biased to unsigned w + 128 once per block (a xor), each
    /// broadcast group meets the tokens' levels in one instruction, and 128·Σa (16 times the tile's 8·Σa)
    /// takes the bias back out exactly. Two instructions per group and row where the AVX2 form needs five.
    /// </summary>
    public static void Rows4Vnni(byte* weight0, long rowBytes, byte* tile, int blocks, float* results) =>
        Rows4Vnni(weight0, weight0 + rowBytes, weight0 + 2 * rowBytes, weight0 + 3 * rowBytes, tile, blocks, results);

    /// <summary>Two rows through <see cref="Rows4Vnni(byte*, long, byte*, int, float*)"/>: <see cref="Q8Tiles.TwoRowsThroughFour"/>.</summary>
    public static void Rows2Vnni(byte* weight0, byte* weight1, byte* tile, int blocks, float* results) =>
        Q8Tiles.TwoRowsThroughFour(&Rows4Vnni, weight0, weight1, tile, blocks, results, Q8Tiles.Tokens);

    private static void Rows4Vnni(byte* weight0, byte* weight1, byte* weight2, byte* weight3, byte* tile, int blocks, float* results)
    {
        byte* biased = stackalloc byte[128];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero, acc2 = Vector256<float>.Zero, acc3 = Vector256<float>.Zero;
        Vector256<byte> bias = Vector256.Create((byte)0x80);
        for (int b = 0; b < blocks; b++, tile += Q8Tiles.BlockBytes)
        {
            int at = b * 34 + 2;
            (Vector256.Load(weight0 + at) ^ bias).Store(biased);
            (Vector256.Load(weight1 + at) ^ bias).Store(biased + 32);
            (Vector256.Load(weight2 + at) ^ bias).Store(biased + 64);
            (Vector256.Load(weight3 + at) ^ bias).Store(biased + 96);
            // Two sums per row (even and odd groups): a chain of eight dependent vpdpbusd per row was
            // latency-bound and measured no faster than the AVX2 form.
            Vector256<int> even0 = Vector256<int>.Zero, even1 = Vector256<int>.Zero, even2 = Vector256<int>.Zero, even3 = Vector256<int>.Zero;
            Vector256<int> odd0 = Vector256<int>.Zero, odd1 = Vector256<int>.Zero, odd2 = Vector256<int>.Zero, odd3 = Vector256<int>.Zero;
            for (int j = 0; j < 8; j += 2)
            {
                Vector256<sbyte> a = Vector256.Load((sbyte*)tile + j * 32), next = Vector256.Load((sbyte*)tile + j * 32 + 32);
                even0 = X86.AvxVnni.MultiplyWideningAndAdd(even0, Vector256.Create(*(int*)(biased + j * 4)).AsByte(), a);
                even1 = X86.AvxVnni.MultiplyWideningAndAdd(even1, Vector256.Create(*(int*)(biased + 32 + j * 4)).AsByte(), a);
                even2 = X86.AvxVnni.MultiplyWideningAndAdd(even2, Vector256.Create(*(int*)(biased + 64 + j * 4)).AsByte(), a);
                even3 = X86.AvxVnni.MultiplyWideningAndAdd(even3, Vector256.Create(*(int*)(biased + 96 + j * 4)).AsByte(), a);
                odd0 = X86.AvxVnni.MultiplyWideningAndAdd(odd0, Vector256.Create(*(int*)(biased + j * 4 + 4)).AsByte(), next);
                odd1 = X86.AvxVnni.MultiplyWideningAndAdd(odd1, Vector256.Create(*(int*)(biased + 32 + j * 4 + 4)).AsByte(), next);
                odd2 = X86.AvxVnni.MultiplyWideningAndAdd(odd2, Vector256.Create(*(int*)(biased + 64 + j * 4 + 4)).AsByte(), next);
                odd3 = X86.AvxVnni.MultiplyWideningAndAdd(odd3, Vector256.Create(*(int*)(biased + 96 + j * 4 + 4)).AsByte(), next);
            }
            Vector256<int> sum0 = even0 + odd0, sum1 = even1 + odd1, sum2 = even2 + odd2, sum3 = even3 + odd3;
            Vector256<int> unbias = Vector256.Load((int*)(tile + Q8Tiles.OffsetsAt)) << 4;
            Vector256<float> scales = Vector256.Load((float*)(tile + Q8Tiles.ScalesAt));
            acc0 = Accumulate(sum0 - unbias, scales, weight0 + at - 2, acc0);
            acc1 = Accumulate(sum1 - unbias, scales, weight1 + at - 2, acc1);
            acc2 = Accumulate(sum2 - unbias, scales, weight2 + at - 2, acc2);
            acc3 = Accumulate(sum3 - unbias, scales, weight3 + at - 2, acc3);
        }
        acc0.Store(results);
        acc1.Store(results + 8);
        acc2.Store(results + 16);
        acc3.Store(results + 24);
    }

    /// <summary>Σ over four weights w (broadcast to every lane) times each lane's four levels: |w|·(sign(w)·a).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Group(byte* magnitudes, byte* weights, Vector256<sbyte> a, Vector256<short> ones) =>
        X86.Avx2.MultiplyAddAdjacent(X86.Avx2.MultiplyAddAdjacent(Vector256.Create(*(int*)magnitudes).AsByte(),
            X86.Avx2.Sign(a, Vector256.Create(*(int*)weights).AsSByte())), ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<int> sums, Vector256<float> scales, byte* weight, Vector256<float> accumulator) =>
        Vector256.FusedMultiplyAdd(X86.Avx.ConvertToVector256Single(sums), Vector256.Create(HalfTable.ToSingle(*(ushort*)weight)) * scales, accumulator);

    /// <summary>
    /// The reference: for each token lane, acc = fma(Σ_i w_i·a_i, d_w·d_a, acc) block by block, in
    /// plain C#. <see cref="Rows2"/> must equal it bit for bit.
    /// </summary>
    public static void Reference(byte* weight, byte* tile, int blocks, float* results, int width = Q8Tiles.Tokens)
    {
        for (int k = 0; k < width; k++)
        {
            float acc = 0;
            for (int b = 0; b < blocks; b++)
            {
                byte* w = weight + b * 34;
                int sum = 0;
                for (int i = 0; i < 32; i++) sum += (sbyte)w[2 + i] * Q8Tiles.Level(tile, k, b * 32 + i, width);
                float scale = HalfConversion.ToSingle(*(ushort*)w) * Q8Tiles.Scale(tile, k, b, width);
                acc = MathF.FusedMultiplyAdd(sum, scale, acc);
            }
            results[k] = acc;
        }
    }
}
