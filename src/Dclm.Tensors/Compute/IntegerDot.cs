using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The integer multiply-add steps of the 256-bit kernels, once per instruction set: a kernel generic over
/// it is compiled once per implementation, with the steps inlined. Both implementations give exactly the
/// same integers, so a kernel gives the same bits with either.
/// </summary>
internal interface IIntegerDot
{
    /// <summary>Σ of each four adjacent products u·s (unsigned × signed bytes), one int32 lane per four.</summary>
    /// <remarks>With pmaddubsw, |u·s + u'·s'| of each adjacent pair must stay below 2^15.</remarks>
    static abstract Vector256<int> Sum(Vector256<byte> u, Vector256<sbyte> s);

    /// <summary>
    /// Σ of each four adjacent u0·s0 + u1·s1: two byte products into one int32 lane per four. With pmaddubsw
    /// the two products' adjacent pairs add in int16 first, so each such sum must stay below 2^15 in magnitude.
    /// </summary>
    static abstract Vector256<int> Sum(Vector256<byte> u0, Vector256<sbyte> s0, Vector256<byte> u1, Vector256<sbyte> s1);

    /// <summary><paramref name="accumulator"/> + Σ of each two adjacent products x·y of int16, one int32 lane per two.</summary>
    static abstract Vector256<int> Add(Vector256<int> accumulator, Vector256<short> x, Vector256<short> y);
}

/// <summary>AVX2: pmaddubsw to int16 pairs, pmaddwd to int32 (by ones, or by the int16 operand), then an add.</summary>
internal readonly struct PairedMultiplyAdd : IIntegerDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Sum(Vector256<byte> u, Vector256<sbyte> s) =>
        X86.Avx2.MultiplyAddAdjacent(X86.Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Sum(Vector256<byte> u0, Vector256<sbyte> s0, Vector256<byte> u1, Vector256<sbyte> s1) =>
        X86.Avx2.MultiplyAddAdjacent(X86.Avx2.MultiplyAddAdjacent(u0, s0) + X86.Avx2.MultiplyAddAdjacent(u1, s1), Vector256<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> accumulator, Vector256<short> x, Vector256<short> y) =>
        accumulator + X86.Avx2.MultiplyAddAdjacent(x, y);
}

/// <summary>
/// AVX-VNNI: vpdpbusd multiplies bytes and adds each four products into an int32 lane in one instruction
/// (no int16 step, so no saturation bound), vpdpwssd the same for int16 pairs.
/// </summary>
internal readonly struct VnniMultiplyAdd : IIntegerDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Sum(Vector256<byte> u, Vector256<sbyte> s) =>
        X86.AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Sum(Vector256<byte> u0, Vector256<sbyte> s0, Vector256<byte> u1, Vector256<sbyte> s1) =>
        X86.AvxVnni.MultiplyWideningAndAdd(X86.AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u0, s0), u1, s1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> accumulator, Vector256<short> x, Vector256<short> y) =>
        X86.AvxVnni.MultiplyWideningAndAdd(accumulator, x, y);
}
