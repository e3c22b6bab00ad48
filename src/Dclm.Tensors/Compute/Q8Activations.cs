using System.Runtime.CompilerServices;
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

    public Q8Row(sbyte* quants, float* scales, int* nibbleOffsets)
    {
        Quants = quants;
        Scales = scales;
        NibbleOffsets = nibbleOffsets;
    }
}

/// <summary>Layout and quantization of <see cref="Q8Row"/> activations (ggml's quantize_row_q8_0_ref).</summary>
internal static unsafe class Q8Activations
{
    /// <summary>Bytes one row of <paramref name="columns"/> values takes, a multiple of 64.</summary>
    public static nuint RowBytes(int columns)
    {
        nuint blocks = (nuint)(columns / 32);
        return ((nuint)columns + blocks * 4 + blocks * 32 + 63) & ~(nuint)63;
    }

    /// <summary>The row for <paramref name="token"/> inside a buffer of rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q8Row Row(byte* buffer, int columns, int token)
    {
        byte* start = buffer + RowBytes(columns) * (nuint)token;
        int blocks = columns / 32;
        return new Q8Row((sbyte*)start, (float*)(start + columns), (int*)(start + columns + blocks * 4));
    }

    /// <summary>Quantizes <paramref name="columns"/> floats into <paramref name="row"/>.</summary>
    public static void Quantize(float* x, int columns, Q8Row row)
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
        for (int b = 0; b < columns / 256; b++)
            Q8_K.QuantizeBlock(x + b * 256, row.Scales + b, row.Quants + b * 256, row.Sums + b * 16);
    }
}
