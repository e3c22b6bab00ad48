using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Horizontal sums of 512-bit float accumulators, all in one fixed order: lane i + lane i+8, then
/// i + i+4, then i + i+2, then i + i+1. Reducing one vector and reducing sixteen at once through
/// transposing shuffles give every vector the same additions in the same order, so a dot product
/// computed by the one-row kernel and by the four-row kernels has the same bits.
/// </summary>
public static class FloatReduction
{
    /// <summary>The sum of the sixteen lanes of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v)
    {
        Vector256<float> h = v.GetLower() + v.GetUpper();
        Vector128<float> g = h.GetLower() + h.GetUpper();
        Vector128<float> t = g + Sse.MoveHighToLow(g, g);
        return t.ToScalar() + t.GetElement(1);
    }

    /// <summary>
    /// The sums of sixteen vectors v[4r + k] (r = row, k = token): lane 4k + r of the result holds the
    /// sum of v[4r + k], so each 128-bit quarter k holds token k's four rows in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sum16(
        Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7,
        Vector512<float> v8, Vector512<float> v9, Vector512<float> v10, Vector512<float> v11,
        Vector512<float> v12, Vector512<float> v13, Vector512<float> v14, Vector512<float> v15)
    {
        Vector512<float> w0 = Quarters(Halves(v0, v1), Halves(v2, v3));
        Vector512<float> w1 = Quarters(Halves(v4, v5), Halves(v6, v7));
        Vector512<float> w2 = Quarters(Halves(v8, v9), Halves(v10, v11));
        Vector512<float> w3 = Quarters(Halves(v12, v13), Halves(v14, v15));
        return Singles(Pairs(w0, w1), Pairs(w2, w3));
    }

    /// <summary>The sums of four vectors, in lanes 0, 4, 8 and 12 of the result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sum4(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
    {
        Vector512<float> y = Pairs(Quarters(Halves(v0, v1), Halves(v2, v3)), default);
        return Singles(y, y);
    }

    /// <summary>Lanes 0-7: a[i] + a[i+8]; lanes 8-15: b[i] + b[i+8].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0b01_00_01_00) + Avx512F.Shuffle4x128(a, b, 0b11_10_11_10);

    /// <summary>From two halves-reduced vectors (two sources each), quarter m: source m's lanes i + i+4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quarters(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0b10_00_10_00) + Avx512F.Shuffle4x128(a, b, 0b11_01_11_01);

    /// <summary>Per quarter: a's lanes 0+2 and 1+3, then b's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pairs(Vector512<float> a, Vector512<float> b) =>
        Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle() + Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();

    /// <summary>Per quarter: a's pairs summed (two lanes), then b's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Singles(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle(a, b, 0b10_00_10_00) + Avx512F.Shuffle(a, b, 0b11_01_11_01);
}
