using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Compute;

/// <summary>One activation row quantized to blocks of 32 for Q8_0 and Q4_0 weights.</summary>
internal readonly unsafe struct Q8Row
{
    /// <summary>(columns) signed levels.</summary>
    public readonly sbyte* Quants;
    /// <summary>(columns/32) block scales, rounded through f16 exactly as ggml's block_q8_0 stores them.</summary>
    public readonly float* Scales;
    /// <summary>
    /// (columns/32, 8) eight times the sum of each run of 4 levels: the term that turns unsigned Q4_0
    /// nibbles q into q - 8, laid out like the int32 lanes of a pmaddubsw+pmaddwd product.
    /// </summary>
    public readonly int* NibbleOffsets;
    /// <summary>(columns/32) eight times the sum of each block's levels: the -8 offset of a whole Q4_0 block.</summary>
    public readonly int* BlockOffsets;
    /// <summary>
    /// (columns/128, 2, 4, 16) the levels of each run of four blocks regrouped by half: the first 16 levels
    /// of the four blocks, then their last 16, so one pmaddubsw multiplies the low nibbles of two or
    /// four Q4_0 blocks (packed side by side as they are stored) and another their high nibbles.
    /// Blocks past the last full run of four are not regrouped.
    /// </summary>
    public readonly sbyte* Halves;

    public Q8Row(sbyte* quants, float* scales, int* nibbleOffsets, int* blockOffsets, sbyte* halves)
    {
        Quants = quants;
        Scales = scales;
        NibbleOffsets = nibbleOffsets;
        BlockOffsets = blockOffsets;
        Halves = halves;
    }
}

/// <summary>Layout and quantization of <see cref="Q8Row"/> activations (ggml's quantize_row_q8_0_ref).</summary>
internal static unsafe class Q8Activations
{
    /// <summary>Bytes one row of <paramref name="columns"/> values takes, a multiple of 64.</summary>
    public static nuint RowBytes(int columns) => (HalvesAt(columns) + (nuint)columns + 63) & ~(nuint)63;

    /// <summary>
    /// Where <see cref="Q8Row.Halves"/> starts: after the levels, scales, nibble offsets and block
    /// offsets, 64-byte aligned so a run of four blocks is one cache line of each half.
    /// </summary>
    private static nuint HalvesAt(int columns) => ((nuint)columns + (nuint)(columns / 32) * 40 + 63) & ~(nuint)63;

    /// <summary>The row for <paramref name="token"/> inside a buffer of rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q8Row Row(byte* buffer, int columns, int token)
    {
        byte* start = buffer + RowBytes(columns) * (nuint)token;
        int blocks = columns / 32;
        return new Q8Row((sbyte*)start, (float*)(start + columns), (int*)(start + columns + blocks * 4),
            (int*)(start + columns + blocks * 36), (sbyte*)(start + HalvesAt(columns)));
    }

    /// <summary>
    /// Fills the block offsets and the regrouped halves of <paramref name="row"/> from its levels
    /// (the quantizers call it; tests that write levels by hand call it too).
    /// </summary>
    public static void Derive(Q8Row row, int columns)
    {
        int blocks = columns / 32;
        for (int b = 0; b < blocks; b++)
        {
            sbyte* q = row.Quants + b * 32;
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += q[j];
            row.BlockOffsets[b] = 8 * sum;
        }
        for (int run = 0; run < blocks / 4; run++)
            for (int k = 0; k < 4; k++)
            {
                sbyte* q = row.Quants + (run * 4 + k) * 32;
                sbyte* target = row.Halves + run * 128 + k * 16;
                for (int j = 0; j < 16; j++)
                {
                    target[j] = q[j];
                    target[64 + j] = q[16 + j];
                }
            }
    }

    /// <summary>Quantizes <paramref name="columns"/> floats into <paramref name="row"/>, with SIMD when available.</summary>
    public static void Quantize(float* x, int columns, Q8Row row)
    {
        if (Vector512.IsHardwareAccelerated && X86.Avx2.IsSupported) QuantizeAvx512(x, columns, row);
        else QuantizeScalar(x, columns, row);
    }

    /// <summary>
    /// The same bytes as <see cref="QuantizeScalar"/>, two 16-float halves per block: roundf is
    /// rebuilt exactly as trunc(t) ± 1 when |t - trunc(t)| ≥ 0.5.
    /// </summary>
    public static void QuantizeAvx512(float* x, int columns, Q8Row row)
    {
        for (int b = 0; b < columns / 32; b++, x += 32)
        {
            Vector512<float> v0 = Vector512.Load(x), v1 = Vector512.Load(x + 16);
            float amax = MaxAcross(Vector512.Max(Vector512.Abs(v0), Vector512.Abs(v1)));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            row.Scales[b] = HalfConversion.ToSingle(HalfConversion.FromSingle(d));
            Vector512<int> q0 = RoundHalfAway(v0 * id), q1 = RoundHalfAway(v1 * id);
            Vector256<sbyte> q = X86.Avx512F.ConvertToVector128SByte(q0).ToVector256Unsafe().WithUpper(X86.Avx512F.ConvertToVector128SByte(q1));
            q.Store(row.Quants + b * 32);
            Vector256<int> fours = X86.Avx2.MultiplyAddAdjacent(X86.Avx2.MultiplyAddAdjacent(Vector256<byte>.One, q), Vector256<short>.One);
            (fours << 3).Store(row.NibbleOffsets + b * 8);
            row.BlockOffsets[b] = Vector256.Sum(fours) << 3;
            sbyte* halves = row.Halves + b / 4 * 128 + b % 4 * 16;
            if (b < columns / 128 * 4)
            {
                q.GetLower().Store(halves);
                q.GetUpper().Store(halves + 64);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> RoundHalfAway(Vector512<float> t)
    {
        Vector512<float> whole = Vector512.Truncate(t);
        Vector512<float> step = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(t - whole), Vector512.Create(0.5f)),
            Vector512.CopySign(Vector512<float>.One, t), Vector512<float>.Zero);
        return Vector512.ConvertToInt32(whole + step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float MaxAcross(Vector512<float> v)
    {
        Vector256<float> m = Vector256.Max(v.GetLower(), v.GetUpper());
        Vector128<float> n = Vector128.Max(m.GetLower(), m.GetUpper());
        n = Vector128.Max(n, X86.Sse.Shuffle(n, n, 0b_01_00_11_10));
        n = Vector128.Max(n, X86.Sse.Shuffle(n, n, 0b_10_11_00_01));
        return n.ToScalar();
    }

    /// <summary>The reference: ggml's quantize_row_q8_0_ref plus the nibble offsets.</summary>
    public static void QuantizeScalar(float* x, int columns, Q8Row row)
    {
        for (int b = 0; b < columns / 32; b++, x += 32)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            row.Scales[b] = HalfConversion.ToSingle(HalfConversion.FromSingle(d));
            sbyte* q = row.Quants + b * 32;
            for (int j = 0; j < 32; j++) q[j] = (sbyte)QuantMath.RoundHalfAway(x[j] * id);
            int* offsets = row.NibbleOffsets + b * 8;
            for (int lane = 0; lane < 8; lane++)
                offsets[lane] = 8 * (q[4 * lane] + q[4 * lane + 1] + q[4 * lane + 2] + q[4 * lane + 3]);
        }
        Derive(row, columns);
    }
}

/// <summary>One activation row quantized to ggml's Q8_K super-blocks, for K-quant weights.</summary>
internal readonly unsafe struct Q8KRow
{
    /// <summary>(columns) signed levels.</summary>
    public readonly sbyte* Quants;
    /// <summary>(columns/256) super-block scales.</summary>
    public readonly float* Scales;
    /// <summary>(columns/16) sums of the levels of each group of 16.</summary>
    public readonly short* Sums;

    public Q8KRow(sbyte* quants, float* scales, short* sums)
    {
        Quants = quants;
        Scales = scales;
        Sums = sums;
    }
}

/// <summary>Layout and quantization of <see cref="Q8KRow"/> activations (ggml's quantize_row_q8_K_ref).</summary>
internal static unsafe class Q8KActivations
{
    public static nuint RowBytes(int columns) =>
        ((nuint)columns + (nuint)(columns / 256 * 4) + (nuint)(columns / 16 * 2) + 63) & ~(nuint)63;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q8KRow Row(byte* buffer, int columns, int token)
    {
        byte* start = buffer + RowBytes(columns) * (nuint)token;
        return new Q8KRow((sbyte*)start, (float*)(start + columns), (short*)(start + columns + columns / 256 * 4));
    }

    public static void Quantize(float* x, int columns, Q8KRow row)
    {
        if (Vector512.IsHardwareAccelerated) QuantizeAvx512(x, columns, row);
        else QuantizeScalar(x, columns, row);
    }

    /// <summary>The reference, ggml's quantize_row_q8_K_ref.</summary>
    public static void QuantizeScalar(float* x, int columns, Q8KRow row)
    {
        for (int b = 0; b < columns / 256; b++)
            Q8_K.QuantizeBlock(x + b * 256, row.Scales + b, row.Quants + b * 256, row.Sums + b * 16);
    }

    /// <summary>
    /// The same bytes as <see cref="QuantizeScalar"/>: the first element of largest magnitude sets the
    /// scale, levels round half to even (Vector512.Round, as nearest_int does), sums per 16 exact.
    /// </summary>
    public static void QuantizeAvx512(float* x, int columns, Q8KRow row)
    {
        for (int b = 0; b < columns / 256; b++, x += 256)
        {
            Vector512<float> largest = Vector512<float>.Zero;
            for (int j = 0; j < 256; j += 16) largest = Vector512.Max(largest, Vector512.Abs(Vector512.Load(x + j)));
            float amax = Q8Activations.MaxAcross(largest);
            sbyte* q = row.Quants + b * 256;
            short* sums = row.Sums + b * 16;
            if (amax == 0)
            {
                row.Scales[b] = 0;
                new Span<sbyte>(q, 256).Clear();
                new Span<short>(sums, 16).Clear();
                continue;
            }
            float max = 0;
            for (int j = 0; j < 256; j += 16)
            {
                ulong hits = Vector512.Equals(Vector512.Abs(Vector512.Load(x + j)), Vector512.Create(amax)).ExtractMostSignificantBits();
                if (hits != 0) { max = x[j + System.Numerics.BitOperations.TrailingZeroCount(hits)]; break; }
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j += 16)
            {
                Vector512<int> levels = Vector512.Min(Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(x + j) * iscale)), Vector512.Create(127));
                X86.Avx512F.ConvertToVector128SByte(levels).Store(q + j);
                sums[j / 16] = (short)Vector512.Sum(levels);
            }
            row.Scales[b] = 1 / iscale;
        }
    }

}
