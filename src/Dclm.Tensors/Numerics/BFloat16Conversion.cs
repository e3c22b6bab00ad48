using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Numerics;

/// <summary>
/// bfloat16 (the upper 16 bits of a float) to and from float, bit-exact with ggml's
/// ggml_compute_fp32_to_bf16: round to nearest, ties to even, and any NaN becomes a quiet NaN
/// (bit 6 of the result set) rather than rounding into infinity.
/// </summary>
public static class BFloat16Conversion
{
    /// <summary>The float whose upper half is <paramref name="bits"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>The bfloat16 nearest to <paramref name="value"/>, ties to even; NaN quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFF) > 0x7F800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>destination[i] = ToSingle(source[i]).</summary>
    public static unsafe void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination) =>
        SpanConversion.Run(source, destination, &ToSingle);

    /// <summary>destination[i] = FromSingle(source[i]).</summary>
    public static unsafe void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination) =>
        SpanConversion.Run(source, destination, &FromSingle);

    internal static unsafe void ToSingle(ushort* source, float* destination, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16)
                Vector512.Store(Widen16(Vector256.Load(source + i)), destination + i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8)
                Vector256.Store(Widen8(Vector128.Load(source + i)), destination + i);
        for (; i < count; i++) destination[i] = ToSingle(source[i]);
    }

    internal static unsafe void FromSingle(float* source, ushort* destination, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                Vector512<uint> u = Vector512.Load((uint*)source + i);
                Vector512<uint> rounded = (u + (Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One))) >> 16;
                Vector512<uint> nan = Vector512.GreaterThan(u & Vector512.Create(0x7FFFFFFFu), Vector512.Create(0x7F800000u));
                Vector512<uint> bits = Vector512.ConditionalSelect(nan, (u >> 16) | Vector512.Create(64u), rounded);
                Vector256.Store(Vector256.Narrow(bits.GetLower(), bits.GetUpper()), destination + i);
            }
        }
        for (; i < count; i++) destination[i] = FromSingle(source[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Widen16(Vector256<ushort> bits) =>
        (Vector512.Create(Vector256.WidenLower(bits), Vector256.WidenUpper(bits)) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Widen8(Vector128<ushort> bits) =>
        (Vector256.Create(Vector128.WidenLower(bits), Vector128.WidenUpper(bits)) << 16).AsSingle();
}
