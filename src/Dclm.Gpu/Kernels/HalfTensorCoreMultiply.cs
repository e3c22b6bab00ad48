using ILGPU;
using ILGPU.IR.Intrinsics;
using ILGPU.Runtime.Cuda;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// A 16-bit float format for the tensor-core prefill (<see cref="HalfTensorCoreKernels"/>): how many parts of it an f32
/// activation is split into, the rounding to it, and PTX's <c>mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32</c>
/// in it (sm_80 and later; <see cref="HalfTensorCoreMultiply"/> gives the fragment table and the emulation).
/// </summary>
internal interface IHalfTensorFormat
{
    /// <summary>Parts x = p_0 + p_1 + … of an activation, each rounded to this format (see <see cref="HalfTensorCoreKernels.Split{TFormat}"/>).</summary>
    int Parts();

    /// <summary>
    /// Whether an activation row is first scaled by a power of two so its largest magnitude lies in [2^14, 2^15): f16 needs
    /// it (largest finite 65504, subnormal below 2^-14); bf16 has f32's exponent range and needs none.
    /// </summary>
    bool ScalesRows();

    /// <summary>The bits of the value of this format nearest to <paramref name="x"/> (ties to even); x within range.</summary>
    uint Round(float x);

    /// <summary>The value with bits <paramref name="bits"/> (the low 16) as a float, exactly.</summary>
    float Widen(uint bits);

    /// <summary>This lane's D fragment of A·B + C (<see cref="HalfTensorCoreMultiply"/>'s table), on tensor cores where CUDA runs.</summary>
    Float4 MultiplyAccumulate(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, Float4 c, ArrayView<float> scratch);
}

/// <summary>IEEE half precision: two parts keep 22 of an activation's 24 significant bits; rows are scaled into f16's range.</summary>
internal readonly struct F16Tensor : IHalfTensorFormat
{
    public int Parts() => 2;

    public bool ScalesRows() => true;

    public uint Round(float x)
    {
        float rounded = DeviceNumbers.RoundThroughHalf(x);
        uint bits = Interop.FloatAsInt(rounded), sign = (bits >> 16) & 0x8000u;
        float magnitude = rounded < 0 ? -rounded : rounded;
        // Past the largest finite f16 (65504; 65520 and up round beyond it): infinity, or NaN for NaN.
        if (!(magnitude < 65520f)) return magnitude >= 65520f ? sign | 0x7C00u : 0x7E00u;
        // Subnormal f16 (and zero): the value is m·2^-24, m < 1024, exactly. Normal: exponent rebased from 127 to 15, the top 10 mantissa bits.
        if (magnitude < 6.103515625e-5f) return sign | (uint)(int)(magnitude * 16777216f);
        return sign | ((((bits >> 23) & 0xFFu) - 112u) << 10) | ((bits >> 13) & 0x3FFu);
    }

    public float Widen(uint bits) => DeviceNumbers.HalfToSingle((int)(bits & 0xFFFF));

    public Float4 MultiplyAccumulate(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, Float4 c, ArrayView<float> scratch) =>
        HalfTensorCoreMultiply.MultiplyAccumulateF16(a0, a1, a2, a3, b0, b1, c, scratch);
}

/// <summary>bfloat16: three parts keep all 24 significant bits of an activation (8 + 8 + 8), with f32's exponent range.</summary>
internal readonly struct BF16Tensor : IHalfTensorFormat
{
    public int Parts() => 3;

    public bool ScalesRows() => false;

    // Round to nearest even on the f32 bits: add 0x7FFF plus the last kept bit, keep the upper half.
    public uint Round(float x)
    {
        uint bits = Interop.FloatAsInt(x);
        return (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    }

    public float Widen(uint bits) => Interop.IntAsFloat((bits & 0xFFFFu) << 16);

    public Float4 MultiplyAccumulate(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, Float4 c, ArrayView<float> scratch) =>
        HalfTensorCoreMultiply.MultiplyAccumulateBF16(a0, a1, a2, a3, b0, b1, c, scratch);
}

/// <summary>
/// PTX's <c>mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32</c> (sm_80 and later): a warp of 32 lanes computes
/// D = A·B + C for A (16 × 16) and B (16 × 8) of f16 (or bf16) and C, D (16 × 8) of f32. Each lane holds the fragment
/// elements the PTX ISA assigns it (section 9.7.14.5.8, "Matrix Fragments for mma.m16n8k16 with floating point type"),
/// two to a register, the lower-numbered element in the low 16 bits; with g = lane / 4 and t = lane % 4,
/// <list type="bullet">
/// <item>A, four registers a0..a7: row g for i ∈ {0, 1, 4, 5}, g + 8 otherwise; column 2t + (i &amp; 1), plus 8 for i ≥ 4;</item>
/// <item>B, two registers b0..b3: row (k) 2t + (i &amp; 1), plus 8 for i ≥ 2; column (n) g;</item>
/// <item>C and D, four f32 c0..c3: row g for i &lt; 2, g + 8 otherwise; column 2t + (i &amp; 1).</item>
/// </list>
/// The products of two f16 (11 × 11 significant bits) or two bf16 (8 × 8) are exact in f32; the ISA leaves the order of
/// the 16 additions into each accumulator, and their rounding, to the hardware.
/// </summary>
/// <remarks>
/// As <see cref="TensorCoreMultiply"/>: a "warp" is 32 consecutive threads of the group, and every thread of the group
/// must call the product the same number of times (the emulation synchronises the group).
/// </remarks>
internal static class HalfTensorCoreMultiply
{
    /// <summary>This lane's D fragment of A·B + C in f16: the instruction on CUDA, <see cref="Emulate"/> elsewhere.</summary>
    internal static Float4 MultiplyAccumulateF16(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, Float4 c, ArrayView<float> scratch) =>
        CudaAsm.IsSupported ? InstructionF16(a0, a1, a2, a3, b0, b1, c.X, c.Y, c.Z, c.W) : Emulate(default(F16Tensor), a0, a1, a2, a3, b0, b1, c, scratch);

    /// <summary>This lane's D fragment of A·B + C in bf16: the instruction on CUDA, <see cref="Emulate"/> elsewhere.</summary>
    internal static Float4 MultiplyAccumulateBF16(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, Float4 c, ArrayView<float> scratch) =>
        CudaAsm.IsSupported ? InstructionBF16(a0, a1, a2, a3, b0, b1, c.X, c.Y, c.Z, c.W) : Emulate(default(BF16Tensor), a0, a1, a2, a3, b0, b1, c, scratch);

    /// <summary>The f16 instruction itself, on CUDA only (<see cref="PtxIntrinsics"/>; an intrinsic's operands must be scalars).</summary>
    [IntrinsicImplementation]
    internal static Float4 InstructionF16(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, float c0, float c1, float c2, float c3) =>
        throw new NotSupportedException("mma.sync runs only on a CUDA device");

    /// <summary>The bf16 instruction itself, on CUDA only.</summary>
    [IntrinsicImplementation]
    internal static Float4 InstructionBF16(uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, float c0, float c1, float c2, float c3) =>
        throw new NotSupportedException("mma.sync runs only on a CUDA device");

    /// <summary>Shared floats the emulation needs per warp: A as 16 × 16 elements, then B as 8 columns of 16.</summary>
    public const int ScratchPerWarp = 16 * 16 + 8 * 16;

    /// <summary>
    /// The instruction from the fragment table, element by element: every lane writes the A and B elements it holds to
    /// their (row, column) in shared memory, the group synchronises, and each lane forms its four D elements as
    /// c + Σ_k A[row, k]·B[k, column] in f32, k in increasing order (each product exact; one valid order of the hardware's
    /// unspecified one).
    /// </summary>
    internal static Float4 Emulate<TFormat>(TFormat format, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, Float4 c, ArrayView<float> scratch)
        where TFormat : struct, IHalfTensorFormat
    {
        int lane = Group.IdxX % TensorCoreMultiply.WarpWidth, groupId = lane >> 2, threadInGroup = lane % 4;
        for (int i = 0; i < 8; i++)
        {
            uint register = i < 2 ? a0 : i < 4 ? a1 : i < 6 ? a2 : a3;
            int row = i < 2 || (i >= 4 && i < 6) ? groupId : groupId + 8;
            int column = threadInGroup * 2 + (i & 1) + (i >= 4 ? 8 : 0);
            scratch[row * 16 + column] = format.Widen((i & 1) == 0 ? register : register >> 16);
        }
        for (int i = 0; i < 4; i++)
        {
            uint register = i < 2 ? b0 : b1;
            int row = threadInGroup * 2 + (i & 1) + (i >= 2 ? 8 : 0);
            scratch[16 * 16 + groupId * 16 + row] = format.Widen((i & 1) == 0 ? register : register >> 16);
        }
        Group.Barrier();
        var d = new Float4
        {
            X = RowTimesColumn(scratch, c.X, groupId, threadInGroup * 2),
            Y = RowTimesColumn(scratch, c.Y, groupId, threadInGroup * 2 + 1),
            Z = RowTimesColumn(scratch, c.Z, groupId + 8, threadInGroup * 2),
            W = RowTimesColumn(scratch, c.W, groupId + 8, threadInGroup * 2 + 1),
        };
        // The next product overwrites the scratch: every lane must have read it first.
        Group.Barrier();
        return d;
    }

    /// <summary>c + Σ_k A[row, k]·B[k, column] over the 16 k of the staged matrices, in f32, k increasing.</summary>
    private static float RowTimesColumn(ArrayView<float> scratch, float c, int row, int column)
    {
        float sum = c;
        for (int k = 0; k < 16; k++) sum += scratch[row * 16 + k] * scratch[16 * 16 + column * 16 + k];
        return sum;
    }
}
