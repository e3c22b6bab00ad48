using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Numerics;

/// <summary>
/// IEEE 754 binary16 (ggml's f16) to and from float, bit-exact with ggml: float to half rounds to
/// nearest, ties to even (what F16C's vcvtps2ph with rounding mode 0 does), NaN stays NaN (and comes out quiet).
/// </summary>
public static class HalfConversion
{
    /// <summary>2^112 exactly (bits 0x77800000), the factor between a half's and a float's exponent bias.</summary>
    internal const float TwoPow112 = 5.192296858534828E+33f;

    /// <summary>The float value of the half whose bits are <paramref name="bits"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>
    /// <see cref="ToSingle(ushort)"/> without calls or branches, for the kernels' per-block scales:
    /// the magnitude bits moved up by 13 and multiplied by 2^112 rebase the exponent (subnormals
    /// included); exponent 31 ORs in the float's all-ones exponent so infinity stays infinite and NaN
    /// stays NaN (its payload not quieted).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float ToSingleFast(ushort bits)
    {
        uint magnitude = (uint)(bits & 0x7FFF) << 13;
        uint sign = (uint)(bits & 0x8000) << 16;
        uint special = magnitude >= 0x7C00u << 13 ? 0x7F800000u : 0u;
        uint scaled = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(magnitude) * TwoPow112);
        return BitConverter.UInt32BitsToSingle(scaled | special | sign);
    }

    /// <summary>The bits of the half nearest to <paramref name="value"/>, ties to even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>destination[i] = ToSingle(source[i]).</summary>
    public static unsafe void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination) =>
        SpanConversion.Run(source, destination, &ToSingle);

    /// <summary>destination[i] = FromSingle(source[i]).</summary>
    public static unsafe void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination) =>
        SpanConversion.Run(source, destination, &FromSingle);

    /// <summary>Bulk float to half over raw memory, sixteen at a time where AVX-512 runs.</summary>
    internal static unsafe void FromSingle(float* source, ushort* destination, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16)
                Vector256.Store(Narrow16(Vector512.Load((uint*)source + i)), destination + i);
        for (; i < count; i++) destination[i] = FromSingle(source[i]);
    }

    /// <summary>
    /// Sixteen floats (as bits) to halves, rounding to nearest even like vcvtps2ph: normal results
    /// rebias the exponent and round the 13 dropped bits with +0xFFF plus the kept lowest bit;
    /// subnormal results come from adding 0.5f, which makes the FPU round at the half's last place;
    /// 65520 and above become infinity, and NaN stays a quiet NaN with its top payload bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<ushort> Narrow16(Vector512<uint> u)
    {
        Vector512<uint> sign = (u >> 16) & Vector512.Create(0x8000u);
        Vector512<uint> a = u & Vector512.Create(0x7FFFFFFFu);
        Vector512<uint> normal = (a - Vector512.Create(0x38000000u) + Vector512.Create(0xFFFu) + ((a >> 13) & Vector512<uint>.One)) >> 13;
        Vector512<uint> subnormal = (a.AsSingle() + Vector512.Create(0.5f)).AsUInt32() - Vector512.Create(0x3F000000u);
        Vector512<uint> finite = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(0x38800000u)), subnormal, normal);
        finite = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512.Create(0x477FF000u)), Vector512.Create(0x7C00u), finite);
        Vector512<uint> nan = Vector512.Create(0x7E00u) | ((a >> 13) & Vector512.Create(0x3FFu));
        Vector512<uint> bits = Vector512.ConditionalSelect(Vector512.GreaterThan(a, Vector512.Create(0x7F800000u)), nan, finite) | sign;
        return System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector256UInt16(bits);
    }

    /// <summary>Bulk half to float over raw memory; the kernels' entry point.</summary>
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

    /// <summary>
    /// Sixteen halves to floats. Moving the 15 exponent+mantissa bits up by 13 and multiplying by 2^112
    /// rebases the exponent from bias 15 to bias 127, and handles subnormals exactly (the product is
    /// representable). Infinity and NaN (exponent 31) get the float exponent 255 instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Widen16(Vector256<ushort> halves) =>
        FromLanes(System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512UInt32(halves));

    /// <summary>
    /// Sixteen halves held in the low 16 bits of 32-bit lanes (upper bits zero) to floats. Moving a
    /// half to the top of the lane and shifting it back arithmetically by 3 leaves the sign in bit 31
    /// and exponent and mantissa in float position (bits 28-30, copies of the sign, are then cleared);
    /// the product with 2^112 rebases the exponent. Infinity and NaN take a separate, rare path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> FromLanes(Vector512<uint> h)
    {
        Vector512<int> placed = Vector512.ShiftRightArithmetic((h << 16).AsInt32(), 3) & Vector512.Create(unchecked((int)0x8FFFE000));
        Vector512<float> scaled = placed.AsSingle() * Vector512.Create(TwoPow112);
        Vector512<uint> magnitude = placed.AsUInt32() & Vector512.Create(0x0FFFE000u);
        if (!Vector512.GreaterThanOrEqualAny(magnitude, Vector512.Create(0x7C00u << 13))) return scaled;
        Vector512<uint> special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u << 13));
        // NaN payloads come out quiet, as F16C's vcvtph2ps and System.Half do.
        Vector512<uint> infNan = magnitude | Vector512.Create(0x7F800000u) | (Vector512.GreaterThan(magnitude, Vector512.Create(0x7C00u << 13)) & Vector512.Create(0x00400000u));
        Vector512<uint> sign = placed.AsUInt32() & Vector512.Create(0x80000000u);
        return Vector512.ConditionalSelect(special, infNan | sign, scaled.AsUInt32()).AsSingle();
    }

    /// <summary>Eight halves to floats; see <see cref="FromLanes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Widen8(Vector128<ushort> halves)
    {
        Vector256<uint> h = System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(halves).AsUInt32();
        Vector256<int> placed = Vector256.ShiftRightArithmetic((h << 16).AsInt32(), 3) & Vector256.Create(unchecked((int)0x8FFFE000));
        Vector256<float> scaled = placed.AsSingle() * Vector256.Create(TwoPow112);
        Vector256<uint> magnitude = placed.AsUInt32() & Vector256.Create(0x0FFFE000u);
        if (!Vector256.GreaterThanOrEqualAny(magnitude, Vector256.Create(0x7C00u << 13))) return scaled;
        Vector256<uint> special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u << 13));
        Vector256<uint> infNan = magnitude | Vector256.Create(0x7F800000u) | (Vector256.GreaterThan(magnitude, Vector256.Create(0x7C00u << 13)) & Vector256.Create(0x00400000u));
        Vector256<uint> sign = placed.AsUInt32() & Vector256.Create(0x80000000u);
        return Vector256.ConditionalSelect(special, infNan | sign, scaled.AsUInt32()).AsSingle();
    }
}
