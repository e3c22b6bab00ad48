using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Dot product of one Q4_K weight row with one <see cref="Q8KRow"/> activation row, per super-block
/// d_a·(d_w·Σ_s scale[s]·Σ q_w·q_a - dmin_w·Σ_s min[s]·Σ q_a), the integer sums exact.
/// </summary>
internal static unsafe partial class DotQ4_K
{
    public static float Scalar(byte* weight, Q8KRow activation, int superBlocks)
    {
        float sum = 0;
        for (int b = 0; b < superBlocks; b++, weight += Q4_K.BlockBytes)
        {
            BlockSums(weight, activation.Quants + b * 256, activation.Sums + b * 16, out int scaled, out int offsets);
            float da = activation.Scales[b];
            sum += HalfConversion.ToSingle(((ushort*)weight)[0]) * da * scaled
                 - HalfConversion.ToSingle(((ushort*)weight)[1]) * da * offsets;
        }
        return sum;
    }

    /// <summary>The two exact integer sums of one super-block: Σ_s scale·Σ q_w·q_a and Σ_s min·Σ q_a.</summary>
    public static void BlockSums(byte* block, sbyte* quants, short* groupSums, out int scaled, out int offsets)
    {
        scaled = 0;
        offsets = 0;
        byte* q = block + Q4_K.QuantsOffset;
        for (int chunk = 0; chunk < 4; chunk++, q += 32)
        {
            Q4_K.ScaleMin(2 * chunk, block + Q4_K.ScalesOffset, out int scaleLow, out int minLow);
            Q4_K.ScaleMin(2 * chunk + 1, block + Q4_K.ScalesOffset, out int scaleHigh, out int minHigh);
            sbyte* a = quants + 64 * chunk;
            int low = 0, high = 0;
            for (int l = 0; l < 32; l++)
            {
                low += (q[l] & 0xF) * a[l];
                high += (q[l] >> 4) * a[l + 32];
            }
            scaled += scaleLow * low + scaleHigh * high;
            offsets += minLow * (groupSums[4 * chunk] + groupSums[4 * chunk + 1])
                     + minHigh * (groupSums[4 * chunk + 2] + groupSums[4 * chunk + 3]);
        }
    }
}
