using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Quantization;

/// <summary>
/// ggml's Q4_0: blocks of 32 values stored as an f16 scale d followed by 16 bytes of nibbles; the low
/// nibble of byte j is element j, the high nibble element j+16, and value = (q - 8)·d.
/// </summary>
internal static unsafe class Q4_0
{
    public const int BlockSize = 32;
    public const int BlockBytes = 18;

    /// <summary>
    /// ggml's quantize_row_q4_0_ref: the element of largest magnitude (first one on ties) maps to -8,
    /// so d = max/-8, and q = min(15, (sbyte)(x/d + 8.5)).
    /// </summary>
    public static void QuantizeRow(float* x, byte* y, int count)
    {
        for (int block = 0; block < count / BlockSize; block++, x += BlockSize, y += BlockBytes)
        {
            float amax = 0, max = 0;
            for (int j = 0; j < BlockSize; j++)
            {
                float v = x[j];
                if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            *(ushort*)y = HalfConversion.FromSingle(d);
            byte* q = y + 2;
            for (int j = 0; j < BlockSize / 2; j++)
            {
                // C's (int8_t) conversion truncates toward zero; the sum is in [0.5, 16.5] for finite input.
                int low = Math.Min(15, (int)(sbyte)(int)(x[j] * id + 8.5f));
                int high = Math.Min(15, (int)(sbyte)(int)(x[j + BlockSize / 2] * id + 8.5f));
                q[j] = (byte)(low | (high << 4));
            }
        }
    }

    /// <summary>value = (q - 8)·d, eight values per 256-bit step where available (exact either way).</summary>
    public static void DequantizeRow(byte* x, float* y, int count)
    {
        if (X86.Avx2.IsSupported)
        {
            Vector128<byte> low = Vector128.Create((byte)0x0F);
            Vector128<sbyte> eight = Vector128.Create((sbyte)8);
            for (int block = 0; block < count / BlockSize; block++, x += BlockBytes, y += BlockSize)
            {
                Vector256<float> d = Vector256.Create(HalfConversion.ToSingle(*(ushort*)x));
                Vector128<byte> packed = Vector128.Load(x + 2);
                Vector128<sbyte> first = (packed & low).AsSByte() - eight;
                Vector128<sbyte> second = ((packed.AsUInt16() >> 4).AsByte() & low).AsSByte() - eight;
                Store(first, d, y);
                Store(second, d, y + 16);
            }
            return;
        }
        for (int block = 0; block < count / BlockSize; block++, x += BlockBytes, y += BlockSize)
        {
            float d = HalfConversion.ToSingle(*(ushort*)x);
            byte* q = x + 2;
            for (int j = 0; j < BlockSize / 2; j++)
            {
                y[j] = ((q[j] & 0x0F) - 8) * d;
                y[j + BlockSize / 2] = ((q[j] >> 4) - 8) * d;
            }
        }
    }

    private static void Store(Vector128<sbyte> levels, Vector256<float> d, float* y)
    {
        (X86.Avx.ConvertToVector256Single(X86.Avx2.ConvertToVector256Int32(levels)) * d).Store(y);
        (X86.Avx.ConvertToVector256Single(X86.Avx2.ConvertToVector256Int32(X86.Sse2.ShiftRightLogical128BitLane(levels, 8))) * d).Store(y + 8);
    }
}
