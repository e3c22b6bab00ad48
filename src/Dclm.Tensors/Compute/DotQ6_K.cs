using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Dot product of one Q6_K weight row with one <see cref="Q8KRow"/> activation row, per super-block
/// d_w·d_a·Σ_g scale[g]·Σ (q_w - 32)·q_a, the integer sum exact.
/// </summary>
internal static unsafe partial class DotQ6_K
{
    public static float Scalar(byte* weight, Q8KRow activation, int superBlocks)
    {
        float sum = 0;
        for (int b = 0; b < superBlocks; b++, weight += Q6_K.BlockBytes)
        {
            int sumi = BlockSum(weight, activation.Quants + b * 256);
            sum += HalfConversion.ToSingle(*(ushort*)(weight + Q6_K.ScaleOffset)) * activation.Scales[b] * sumi;
        }
        return sum;
    }

    /// <summary>Σ_g scale[g]·Σ (q_w - 32)·q_a over one super-block.</summary>
    public static int BlockSum(byte* block, sbyte* quants)
    {
        byte* ql = block, qh = block + Q6_K.HighOffset;
        sbyte* scales = (sbyte*)(block + Q6_K.ScalesOffset);
        int total = 0;
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, scales += 8, quants += 128)
        {
            for (int g = 0; g < 2; g++)
            {
                int s1 = 0, s2 = 0, s3 = 0, s4 = 0;
                for (int l = 16 * g; l < 16 * g + 16; l++)
                {
                    s1 += (((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32) * quants[l];
                    s2 += (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32) * quants[l + 32];
                    s3 += (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * quants[l + 64];
                    s4 += (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * quants[l + 96];
                }
                total += scales[g] * s1 + scales[g + 2] * s2 + scales[g + 4] * s3 + scales[g + 6] * s4;
            }
        }
        return total;
    }
}
