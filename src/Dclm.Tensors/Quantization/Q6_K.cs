using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Quantization;

/// <summary>
/// ggml's Q6_K: super-blocks of 256 values in 16 groups of 16, each with a signed 8-bit scale.
/// Layout (210 bytes): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8 scales, f16 d.
/// value = d·scale[g]·(q - 32) with q the 6-bit level. For each half of 128 values, ql byte l holds
/// elements l (low) and l+64 (high), ql byte l+32 holds l+32 and l+96, and qh byte l holds the high
/// bits of l, l+32, l+64, l+96 in bit pairs 0, 2, 4, 6.
/// </summary>
internal static unsafe class Q6_K
{
    public const int BlockSize = 256;
    public const int BlockBytes = 210;
    public const int HighOffset = 128;
    public const int ScalesOffset = 192;
    public const int ScaleOffset = 208;

    /// <summary>ggml's quantize_row_q6_K_ref (make_qx_quants with x² weights per group of 16).</summary>
    public static void QuantizeRow(float* x, byte* y, int count)
    {
        sbyte* levels = stackalloc sbyte[BlockSize];
        float* scales = stackalloc float[16];
        for (int block = 0; block < count / BlockSize; block++, x += BlockSize, y += BlockBytes)
        {
            float maxScale = 0, maxAbsScale = 0;
            for (int g = 0; g < 16; g++)
            {
                float scale = QuantMath.MakeQxQuants(16, 32, x + 16 * g, levels + 16 * g, null);
                scales[g] = scale;
                float absScale = MathF.Abs(scale);
                if (absScale > maxAbsScale) { maxAbsScale = absScale; maxScale = scale; }
            }
            if (maxAbsScale < QuantMath.GroupMaxEpsilon)
            {
                new Span<byte>(y, BlockBytes).Clear();
                continue;
            }
            float iscale = -128f / maxScale;
            ushort dBits = HalfConversion.FromSingle(1 / iscale);
            *(ushort*)(y + ScaleOffset) = dBits;
            sbyte* groupScales = (sbyte*)(y + ScalesOffset);
            for (int g = 0; g < 16; g++) groupScales[g] = (sbyte)Math.Min(127, QuantMath.NearestInt(iscale * scales[g]));
            for (int g = 0; g < 16; g++)
            {
                float d = HalfConversion.ToSingle(dBits) * groupScales[g];
                if (d == 0) continue;
                for (int i = 0; i < 16; i++)
                {
                    int l = QuantMath.NearestInt(x[16 * g + i] / d);
                    levels[16 * g + i] = (sbyte)(Math.Max(-32, Math.Min(31, l)) + 32);
                }
            }
            byte* ql = y;
            byte* qh = y + HighOffset;
            for (int j = 0; j < BlockSize; j += 128, ql += 64, qh += 32)
            {
                for (int l = 0; l < 32; l++)
                {
                    int q1 = levels[j + l] & 0xF, q2 = levels[j + l + 32] & 0xF;
                    int q3 = levels[j + l + 64] & 0xF, q4 = levels[j + l + 96] & 0xF;
                    ql[l] = (byte)(q1 | (q3 << 4));
                    ql[l + 32] = (byte)(q2 | (q4 << 4));
                    qh[l] = (byte)((levels[j + l] >> 4) | ((levels[j + l + 32] >> 4) << 2)
                        | ((levels[j + l + 64] >> 4) << 4) | ((levels[j + l + 96] >> 4) << 6));
                }
            }
        }
    }

    public static void DequantizeRow(byte* x, float* y, int count)
    {
        for (int block = 0; block < count / BlockSize; block++, x += BlockBytes)
        {
            float d = HalfConversion.ToSingle(*(ushort*)(x + ScaleOffset));
            byte* ql = x, qh = x + HighOffset;
            sbyte* sc = (sbyte*)(x + ScalesOffset);
            for (int n = 0; n < BlockSize; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
            {
                for (int l = 0; l < 32; l++)
                {
                    int g = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[g] * q1;
                    y[l + 32] = d * sc[g + 2] * q2;
                    y[l + 64] = d * sc[g + 4] * q3;
                    y[l + 96] = d * sc[g + 6] * q4;
                }
            }
        }
    }
}
