using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Quantization;

/// <summary>
/// ggml's Q8_0: blocks of 32 values stored as an f16 scale d followed by 32 signed bytes q, value = q·d.
/// </summary>
internal static unsafe class Q8_0
{
    public const int BlockSize = 32;
    public const int BlockBytes = 34;

    /// <summary>ggml's quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d) with the unrounded d.</summary>
    public static void QuantizeRow(float* x, byte* y, int count)
    {
        for (int block = 0; block < count / BlockSize; block++, x += BlockSize, y += BlockBytes)
        {
            float amax = 0;
            for (int j = 0; j < BlockSize; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            *(ushort*)y = HalfConversion.FromSingle(d);
            sbyte* q = (sbyte*)(y + 2);
            for (int j = 0; j < BlockSize; j++) q[j] = (sbyte)QuantMath.RoundHalfAway(x[j] * id);
        }
    }

    /// <summary>value = q·d, eight values per 256-bit step where available (exact either way).</summary>
    public static void DequantizeRow(byte* x, float* y, int count)
    {
        if (X86.Avx2.IsSupported)
        {
            for (int block = 0; block < count / BlockSize; block++, x += BlockBytes, y += BlockSize)
            {
                Vector256<float> d = Vector256.Create(HalfConversion.ToSingle(*(ushort*)x));
                sbyte* q = (sbyte*)(x + 2);
                for (int j = 0; j < BlockSize; j += 8)
                    (X86.Avx.ConvertToVector256Single(X86.Avx2.ConvertToVector256Int32(q + j)) * d).Store(y + j);
            }
            return;
        }
        for (int block = 0; block < count / BlockSize; block++, x += BlockBytes, y += BlockSize)
        {
            float d = HalfConversion.ToSingle(*(ushort*)x);
            sbyte* q = (sbyte*)(x + 2);
            for (int j = 0; j < BlockSize; j++) y[j] = q[j] * d;
        }
    }
}
