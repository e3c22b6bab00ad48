using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>Picks each dot-product kernel for an instruction-set level, falling back to the best lower one.</summary>
internal static unsafe class DotKernels
{
    /// <summary>
    /// Initializes <see cref="HalfTable"/> before any kernel is compiled: kernels that stackalloc are
    /// compiled once, fully optimized, and one compiled while the table's class was still
    /// uninitialized keeps a class-initialization check in its loop, around which the JIT spills the
    /// accumulators to the stack (the Q4_0 decode kernel measured 4x slower that way).
    /// </summary>
    static DotKernels() => _ = HalfTable.ToSingle(0);

    public static delegate*<float*, byte*, int, float> Float(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.F32, KernelIsa.Avx512) => &DotFloat.F32Avx512,
        (GgmlType.F32, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &DotFloat.F32Avx2,
        (GgmlType.F32, _) => &DotFloat.F32Scalar,
        (GgmlType.F16, KernelIsa.Avx512) => &DotFloat.F16Avx512,
        (GgmlType.F16, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &DotFloat.F16Avx2,
        (GgmlType.F16, _) => &DotFloat.F16Scalar,
        (GgmlType.BF16, KernelIsa.Avx512) => &DotFloat.BF16Avx512,
        (GgmlType.BF16, KernelIsa.Avx2 or KernelIsa.AvxVnni) => &DotFloat.BF16Avx2,
        (GgmlType.BF16, _) => &DotFloat.BF16Scalar,
        _ => throw new NotSupportedException($"no float kernel for {GgmlTypeInfo.Name(type)}"),
    };

    public static delegate*<byte*, Q8Row, int, float> Q8(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.Q8_0, KernelIsa.Avx512) => &DotQ8_0.Avx512,
        (GgmlType.Q8_0, KernelIsa.AvxVnni) => &DotQ8_0.AvxVnni,
        (GgmlType.Q8_0, KernelIsa.Avx2) => &DotQ8_0.Avx2,
        (GgmlType.Q8_0, _) => &DotQ8_0.Scalar,
        (GgmlType.Q4_0, KernelIsa.Avx512) => &DotQ4_0.Avx512,
        (GgmlType.Q4_0, KernelIsa.AvxVnni) => &DotQ4_0.AvxVnni,
        (GgmlType.Q4_0, KernelIsa.Avx2) => &DotQ4_0.Avx2,
        (GgmlType.Q4_0, _) => &DotQ4_0.Scalar,
        _ => throw new NotSupportedException($"no Q8_0-activation kernel for {GgmlTypeInfo.Name(type)}"),
    };

    /// <summary>
    /// The many-row, one-token kernel for Q8_0/Q4_0 weights at a SIMD level, or null at the scalar one (then
    /// <see cref="Q8"/> runs row by row): (weight, rowBytes, rows, activation, blocks, results), results[r] bit-identical
    /// to <see cref="Q8"/>'s for row r.
    /// </summary>
    public static delegate*<byte*, long, int, Q8Row, int, float*, void> Q8Rows(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.Q8_0, KernelIsa.Avx512) => &DotQ8_0.RowsAvx512,
        (GgmlType.Q8_0, KernelIsa.AvxVnni) => &DotQ8_0.RowsAvxVnni,
        (GgmlType.Q8_0, KernelIsa.Avx2) => &DotQ8_0.RowsAvx2,
        (GgmlType.Q4_0, KernelIsa.Avx512) => &DotQ4_0.RowsAvx512,
        (GgmlType.Q4_0, KernelIsa.AvxVnni) => &DotQ4_0.RowsAvxVnni,
        (GgmlType.Q4_0, KernelIsa.Avx2) => &DotQ4_0.RowsAvx2,
        _ => null,
    };

    /// <summary>
    /// The few-token kernel for Q8_0/Q4_0 weights at a level: (weight, rowBytes, rows, tokens, count, blocks, results),
    /// rows against 1..<see cref="FewTokens.MaxTokens"/> activation rows, results[r·count + t] bit-identical to
    /// <see cref="Q8"/>'s for each row and token alone.
    /// </summary>
    public static delegate*<byte*, long, int, Q8Row*, int, int, float*, void> Q8Tokens(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.Q8_0, KernelIsa.Avx512) => &DotQ8_0.TokensAvx512,
        (GgmlType.Q8_0, KernelIsa.AvxVnni) => &DotQ8_0.TokensAvxVnni,
        (GgmlType.Q8_0, KernelIsa.Avx2) => &DotQ8_0.TokensAvx2,
        (GgmlType.Q8_0, _) => &DotQ8_0.TokensScalar,
        (GgmlType.Q4_0, KernelIsa.Avx512) => &DotQ4_0.TokensAvx512,
        (GgmlType.Q4_0, KernelIsa.AvxVnni) => &DotQ4_0.TokensAvxVnni,
        (GgmlType.Q4_0, KernelIsa.Avx2) => &DotQ4_0.TokensAvx2,
        (GgmlType.Q4_0, _) => &DotQ4_0.TokensScalar,
        _ => throw new NotSupportedException($"no few-token kernel for {GgmlTypeInfo.Name(type)}"),
    };

    public static delegate*<byte*, Q8KRow, int, float> Q8K(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.Q4_K, KernelIsa.Avx512) => &DotQ4_K.Avx512,
        (GgmlType.Q4_K, KernelIsa.AvxVnni) => &DotQ4_K.AvxVnni,
        (GgmlType.Q4_K, KernelIsa.Avx2) => &DotQ4_K.Avx2,
        (GgmlType.Q4_K, _) => &DotQ4_K.Scalar,
        (GgmlType.Q6_K, KernelIsa.Avx512) => &DotQ6_K.Avx512,
        (GgmlType.Q6_K, KernelIsa.AvxVnni) => &DotQ6_K.AvxVnni,
        (GgmlType.Q6_K, KernelIsa.Avx2) => &DotQ6_K.Avx2,
        (GgmlType.Q6_K, _) => &DotQ6_K.Scalar,
        _ => throw new NotSupportedException($"no Q8_K-activation kernel for {GgmlTypeInfo.Name(type)}"),
    };

    /// <summary>
    /// The GEMM kernels over <see cref="Compute.Q8Tiles"/> tiles for weights of <paramref name="type"/>, or none
    /// (scalar, or a type without them): MatMul uses them for products of eight or more tokens. Q4_0 at the
    /// AVX-512 level has 512-bit kernels over tiles of sixteen tokens; every other level and Q8_0 at every
    /// level run 256-bit ones over tiles of eight (VNNI where the level has it).
    /// </summary>
    public static TileKernels Q8Tiles(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (_, KernelIsa.Scalar) => default,
        (GgmlType.Q4_0, KernelIsa.Avx512) => new(&DotQ4_0WideTiles.Rows2, &DotQ4_0WideTiles.Rows4, Compute.Q8Tiles.WideTokens),
        (GgmlType.Q4_0, KernelIsa.AvxVnni) => new(&DotQ4_0Tiles.Rows2Vnni, &DotQ4_0Tiles.Rows4Vnni, Compute.Q8Tiles.Tokens),
        (GgmlType.Q4_0, _) => new(&DotQ4_0Tiles.Rows2, &DotQ4_0Tiles.Rows4, Compute.Q8Tiles.Tokens),
        (GgmlType.Q8_0, KernelIsa.AvxVnni) => new(&DotQ8_0Tiles.Rows2Vnni, &DotQ8_0Tiles.Rows4Vnni, Compute.Q8Tiles.Tokens),
        (GgmlType.Q8_0, _) => new(&DotQ8_0Tiles.Rows2, &DotQ8_0Tiles.Rows4, Compute.Q8Tiles.Tokens),
        _ => default,
    };

    /// <summary>The four-token prefill kernel for Q8_K-activation weights (256-bit at every SIMD level), or null where there is none (scalar).</summary>
    public static delegate*<byte*, Q8KRow*, int, float*, void> Q8KTokens4(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (_, KernelIsa.Scalar) => null,
        (GgmlType.Q4_K, KernelIsa.AvxVnni) => &DotTokens4.Q4_K<VnniMultiplyAdd>,
        (GgmlType.Q4_K, _) => &DotTokens4.Q4_K<PairedMultiplyAdd>,
        (GgmlType.Q6_K, KernelIsa.AvxVnni) => &DotTokens4.Q6_K<VnniMultiplyAdd>,
        (GgmlType.Q6_K, _) => &DotTokens4.Q6_K<PairedMultiplyAdd>,
        _ => null,
    };

    /// <summary>The four-row, four-token kernel for float weights (AVX-512 only), or null.</summary>
    public static delegate*<float*, long, byte*, long, int, float*, long, void> FloatRows4Tokens4(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.F32, KernelIsa.Avx512) => &DotFloatRows4.F32x4,
        (GgmlType.F16, KernelIsa.Avx512) => &DotFloatRows4.F16x4,
        (GgmlType.BF16, KernelIsa.Avx512) => &DotFloatRows4.BF16x4,
        _ => null,
    };

    /// <summary>The four-row, one-token kernel for float weights (AVX-512 only), or null.</summary>
    public static delegate*<float*, byte*, long, int, float*, void> FloatRows4Token1(GgmlType type, KernelIsa isa) => (type, isa) switch
    {
        (GgmlType.F32, KernelIsa.Avx512) => &DotFloatRows4.F32x1,
        (GgmlType.F16, KernelIsa.Avx512) => &DotFloatRows4.F16x1,
        (GgmlType.BF16, KernelIsa.Avx512) => &DotFloatRows4.BF16x1,
        _ => null,
    };
}

/// <summary>
/// A type's GEMM tile kernels at one level: two rows (results[r·Width + k]), four rows <c>rowBytes</c> apart,
/// and the tile width in tokens they take. Default (null kernels) where there are none.
/// </summary>
internal readonly unsafe struct TileKernels(
    delegate*<byte*, byte*, byte*, int, float*, void> rows2,
    delegate*<byte*, long, byte*, int, float*, void> rows4,
    int width)
{
    public readonly delegate*<byte*, byte*, byte*, int, float*, void> Rows2 = rows2;
    public readonly delegate*<byte*, long, byte*, int, float*, void> Rows4 = rows4;
    public readonly int Width = width;

    /// <summary>True when the type has tile kernels at this level.</summary>
    public bool Exist => Rows2 != null;
}
