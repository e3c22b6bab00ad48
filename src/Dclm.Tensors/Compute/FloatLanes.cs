using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// One register width of float lanes: a register-tile kernel written once over it is compiled once per
/// width (<see cref="Lanes512"/>, <see cref="Lanes256"/>) with every step inlined, so the AVX-512 and AVX2
/// copies are the code the two written-out copies were.
/// </summary>
/// <typeparam name="TVector">The register: <see cref="Vector512{T}"/> or <see cref="Vector256{T}"/> of float.</typeparam>
internal unsafe interface IFloatLanes<TVector> where TVector : struct
{
    /// <summary>Floats in one register.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TVector Zero { get; }

    /// <summary>The register at <paramref name="source"/> (unaligned).</summary>
    static abstract TVector Load(float* source);

    /// <summary>
    /// One register of cached keys or values of <typeparamref name="TElements"/>'s element type at
    /// <paramref name="start"/> + <paramref name="index"/> elements, widened to floats.
    /// </summary>
    static abstract TVector Load<TElements>(byte* start, long index) where TElements : struct, AttentionScores.IKeys;

    /// <summary>Writes <paramref name="value"/> at <paramref name="destination"/> (unaligned).</summary>
    static abstract void Store(TVector value, float* destination);

    /// <summary><paramref name="value"/> in every lane.</summary>
    static abstract TVector Broadcast(float value);

    /// <summary>x·y + addend in every lane, rounded once.</summary>
    static abstract TVector FusedMultiplyAdd(TVector x, TVector y, TVector addend);
}

/// <summary>Sixteen floats: AVX-512.</summary>
internal readonly unsafe struct Lanes512 : IFloatLanes<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load<TElements>(byte* start, long index) where TElements : struct, AttentionScores.IKeys =>
        TElements.Load16(start, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> x, Vector512<float> y, Vector512<float> addend) =>
        Vector512.FusedMultiplyAdd(x, y, addend);
}

/// <summary>Eight floats: AVX2.</summary>
internal readonly unsafe struct Lanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load<TElements>(byte* start, long index) where TElements : struct, AttentionScores.IKeys =>
        TElements.Load8(start, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> x, Vector256<float> y, Vector256<float> addend) =>
        Vector256.FusedMultiplyAdd(x, y, addend);
}
