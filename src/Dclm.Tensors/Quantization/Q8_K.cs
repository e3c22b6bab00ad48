namespace Dclm.Tensors.Quantization;

/// <summary>
/// ggml's Q8_K, the activation format of the K-quant dot products: super-blocks of 256 values stored
/// as a float scale d, 256 signed bytes q (value = q·d) and 16 int16 sums of q over each 16 values.
/// </summary>
internal static unsafe class Q8_K
{
    public const int BlockSize = 256;
    public const int BlockBytes = 292;
    public const int QuantsOffset = 4;
    public const int SumsOffset = 260;

    /// <summary>
    /// ggml's quantize_row_q8_K_ref: the largest-magnitude element maps to -127, q = min(127,
    /// nearest_int(-127/max · x)), d = 1/iscale.
    /// </summary>
    public static void QuantizeRow(float* x, byte* y, int count)
    {
        for (int block = 0; block < count / BlockSize; block++, x += BlockSize, y += BlockBytes)
            QuantizeBlock(x, (float*)y, (sbyte*)(y + QuantsOffset), (short*)(y + SumsOffset));
    }

    /// <summary>One super-block into separate scale, quant and sum destinations.</summary>
    public static void QuantizeBlock(float* x, float* d, sbyte* q, short* sums)
    {
        float max = 0, amax = 0;
        for (int j = 0; j < BlockSize; j++)
        {
            float ax = MathF.Abs(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0)
        {
            *d = 0;
            for (int j = 0; j < BlockSize; j++) q[j] = 0;
            for (int j = 0; j < BlockSize / 16; j++) sums[j] = 0;
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < BlockSize; j++) q[j] = (sbyte)Math.Min(127, QuantMath.NearestInt(iscale * x[j]));
        for (int j = 0; j < BlockSize / 16; j++)
        {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += q[j * 16 + i];
            sums[j] = (short)sum;
        }
        *d = 1 / iscale;
    }

    public static void DequantizeRow(byte* x, float* y, int count)
    {
        for (int block = 0; block < count / BlockSize; block++, x += BlockBytes, y += BlockSize)
        {
            float d = *(float*)x;
            sbyte* q = (sbyte*)(x + QuantsOffset);
            for (int j = 0; j < BlockSize; j++) y[j] = d * q[j];
        }
    }
}
