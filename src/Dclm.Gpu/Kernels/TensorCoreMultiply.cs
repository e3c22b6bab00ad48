using ILGPU;
using ILGPU.IR.Intrinsics;
using ILGPU.Runtime.Cuda;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// PTX's <c>mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32</c> (sm_80 and later): a warp of 32 lanes computes
/// D = A·B + C for A (16 × 32) and B (32 × 8) of signed bytes and C, D (16 × 8) of int32, exactly (integer arithmetic,
/// no saturation without <c>.satfinite</c>). Each lane holds the fragment elements the PTX ISA assigns it (section
/// 9.7.14.5, "Matrix Fragments for mma.m16n8k32", .s8): with g = lane / 4 and t = lane % 4,
/// <list type="bullet">
/// <item>A, four registers of four bytes a0..a15 (byte i % 4 of register i / 4): row g for i in [0, 4) ∪ [8, 12), g + 8
/// otherwise; column 4t + (i &amp; 3), plus 16 for i ≥ 8;</item>
/// <item>B, two registers b0..b7: row (k) 4t + (i &amp; 3), plus 16 for i ≥ 4; column (n) g;</item>
/// <item>C and D, four int32 c0..c3: row g for i &lt; 2, g + 8 otherwise; column 2t + (i &amp; 1).</item>
/// </list>
/// On a CUDA device the instruction itself runs (<see cref="PtxIntrinsics"/>); elsewhere (ILGPU's CPU accelerator) <see cref="Emulate"/> gives the same
/// per-lane results by exchanging the fragments through shared memory.
/// </summary>
/// <remarks>
/// A "warp" here is 32 consecutive threads of a one-dimensional group (lane = group index mod 32), which on a GPU is the
/// hardware warp and on the CPU accelerator (8-wide warps) is four of them. Every thread of the group must call this
/// the same number of times: the emulation synchronises the whole group.
/// </remarks>
internal static class TensorCoreMultiply
{
    /// <summary>Lanes that share one product.</summary>
    public const int WarpWidth = 32;

    /// <summary>Shared ints the emulation needs per warp: A as 16 × 32 elements, then B as 8 columns of 32.</summary>
    public const int ScratchPerWarp = 16 * 32 + 8 * 32;

    /// <summary>
    /// This lane's D fragment (d0..d3 in X..W) of A·B + C, given its A fragment (a0..a3), B fragment (b0, b1) and C
    /// fragment. <paramref name="scratch"/> is this warp's <see cref="ScratchPerWarp"/> shared ints (unused on CUDA).
    /// </summary>
    internal static Int4 MultiplyAccumulate(int a0, int a1, int a2, int a3, int b0, int b1, Int4 c, ArrayView<int> scratch) =>
        CudaAsm.IsSupported ? Instruction(a0, a1, a2, a3, b0, b1, c.X, c.Y, c.Z, c.W) : Emulate(a0, a1, a2, a3, b0, b1, c, scratch);

    /// <summary>The instruction itself, on CUDA only (<see cref="PtxIntrinsics"/>; an intrinsic's operands must be scalars).</summary>
    [IntrinsicImplementation]
    internal static Int4 Instruction(int a0, int a1, int a2, int a3, int b0, int b1, int c0, int c1, int c2, int c3) =>
        throw new NotSupportedException("mma.sync runs only on a CUDA device");

    /// <summary>
    /// The instruction's semantics from the fragment table above, element by element: every lane writes the A and B
    /// elements it holds to their (row, column) in shared memory, the group synchronises, and every lane sums its four
    /// D elements from the whole of A and B.
    /// </summary>
    internal static Int4 Emulate(int a0, int a1, int a2, int a3, int b0, int b1, Int4 c, ArrayView<int> scratch)
    {
        int lane = Group.IdxX % WarpWidth, groupId = lane >> 2, threadInGroup = lane % 4;
        for (int i = 0; i < 16; i++)
        {
            int register = i < 4 ? a0 : i < 8 ? a1 : i < 12 ? a2 : a3;
            int row = i < 4 || (i >= 8 && i < 12) ? groupId : groupId + 8;
            int column = threadInGroup * 4 + (i & 3) + (i >= 8 ? 16 : 0);
            scratch[row * 32 + column] = (sbyte)(register >> (8 * (i & 3)));
        }
        for (int i = 0; i < 8; i++)
        {
            int register = i < 4 ? b0 : b1;
            int row = threadInGroup * 4 + (i & 3) + (i >= 4 ? 16 : 0);
            scratch[16 * 32 + groupId * 32 + row] = (sbyte)(register >> (8 * (i & 3)));
        }
        Group.Barrier();
        var d = new Int4
        {
            X = c.X + RowTimesColumn(scratch, groupId, threadInGroup * 2),
            Y = c.Y + RowTimesColumn(scratch, groupId, threadInGroup * 2 + 1),
            Z = c.Z + RowTimesColumn(scratch, groupId + 8, threadInGroup * 2),
            W = c.W + RowTimesColumn(scratch, groupId + 8, threadInGroup * 2 + 1),
        };
        // The next product overwrites the scratch: every lane must have read it first.
        Group.Barrier();
        return d;
    }

    /// <summary>Σ_k A[row, k]·B[k, column] over the 32 k of the staged matrices.</summary>
    private static int RowTimesColumn(ArrayView<int> scratch, int row, int column)
    {
        int sum = 0;
        for (int k = 0; k < 32; k++) sum += scratch[row * 32 + k] * scratch[16 * 32 + column * 32 + k];
        return sum;
    }
}
