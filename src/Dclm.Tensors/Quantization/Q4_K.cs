using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Quantization;

/// <summary>
/// ggml's Q4_K: super-blocks of 256 values in 8 sub-blocks of 32. Layout (144 bytes): f16 d, f16 dmin,
/// 12 bytes packing eight 6-bit scales and eight 6-bit mins, 128 bytes of nibbles. Byte l of nibble
/// chunk c (32 bytes each) holds element 64c+l in its low nibble and 64c+32+l in its high nibble.
/// value = d·scale[s]·q - dmin·min[s] for sub-block s.
/// </summary>
internal static unsafe class Q4_K
{
    public const int BlockSize = 256;
    public const int BlockBytes = 144;
    public const int ScalesOffset = 4;
    public const int QuantsOffset = 16;

    /// <summary>ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j.</summary>
    public static void ScaleMin(int j, byte* scales, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = scales[j] & 63;
            min = scales[j + 4] & 63;
        }
        else
        {
            scale = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
            min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
        }
    }

    /// <summary>ggml's quantize_row_q4_K_ref (make_qkx2_quants per sub-block, weights av_x + |x|).</summary>
    public static void QuantizeRow(float* x, byte* y, int count)
    {
        byte* levels = stackalloc byte[BlockSize];
        byte* auxLevels = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        for (int block = 0; block < count / BlockSize; block++, x += BlockSize, y += BlockBytes)
        {
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += x[32 * j + l] * x[32 * j + l];
                float averageX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = averageX + MathF.Abs(x[32 * j + l]);
                scales[j] = QuantMath.MakeQkx2Quants(32, 15, x + 32 * j, weights, levels + 32 * j, out mins[j], auxLevels, -1f, 0.1f, 20, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float inverseScale = maxScale > 0 ? 63f / maxScale : 0f;
            float inverseMin = maxMin > 0 ? 63f / maxMin : 0f;
            byte* packed = y + ScalesOffset;
            for (int j = 0; j < 12; j++) packed[j] = 0;
            for (int j = 0; j < 8; j++)
            {
                // ggml stores nearest_int into a uint8_t before clamping, so keep the byte truncation.
                int ls = Math.Min(63, (int)(byte)QuantMath.NearestInt(inverseScale * scales[j]));
                int lm = Math.Min(63, (int)(byte)QuantMath.NearestInt(inverseMin * mins[j]));
                if (j < 4)
                {
                    packed[j] = (byte)ls;
                    packed[j + 4] = (byte)lm;
                }
                else
                {
                    packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    packed[j - 4] |= (byte)((ls >> 4) << 6);
                    packed[j] |= (byte)((lm >> 4) << 6);
                }
            }
            ushort dBits = HalfConversion.FromSingle(maxScale / 63f);
            ushort dminBits = HalfConversion.FromSingle(maxMin / 63f);
            ((ushort*)y)[0] = dBits;
            ((ushort*)y)[1] = dminBits;
            for (int j = 0; j < 8; j++)
            {
                ScaleMin(j, packed, out int sc, out int m);
                float d = HalfConversion.ToSingle(dBits) * sc;
                if (d == 0) continue;
                float dm = HalfConversion.ToSingle(dminBits) * m;
                for (int i = 0; i < 32; i++)
                {
                    int l = QuantMath.NearestInt((x[32 * j + i] + dm) / d);
                    levels[32 * j + i] = (byte)Math.Max(0, Math.Min(15, l));
                }
            }
            byte* q = y + QuantsOffset;
            for (int j = 0; j < BlockSize; j += 64, q += 32)
                for (int l = 0; l < 32; l++) q[l] = (byte)(levels[j + l] | (levels[j + l + 32] << 4));
        }
    }

    public static void DequantizeRow(byte* x, float* y, int count)
    {
        for (int block = 0; block < count / BlockSize; block++, x += BlockBytes)
        {
            float d = HalfConversion.ToSingle(((ushort*)x)[0]);
            float min = HalfConversion.ToSingle(((ushort*)x)[1]);
            byte* q = x + QuantsOffset;
            for (int j = 0, s = 0; j < BlockSize; j += 64, q += 32, s += 2)
            {
                ScaleMin(s, x + ScalesOffset, out int sc1, out int m1);
                ScaleMin(s + 1, x + ScalesOffset, out int sc2, out int m2);
                float d1 = d * sc1, min1 = min * m1, d2 = d * sc2, min2 = min * m2;
                for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - min1;
                for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - min2;
            }
        }
    }
}
