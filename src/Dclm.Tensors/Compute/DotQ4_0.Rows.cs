using System.Runtime.CompilerServices;

namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ4_0
{
    /// <summary>
    /// results[r] = weight row r · <paramref name="activation"/> for <paramref name="rowCount"/> rows
    /// <paramref name="rowBytes"/> apart, each exactly the bits of <see cref="Avx2"/> for that row: the same kernel
    /// inlined into a loop over the rows, so a decode product pays once, not per row, for the indirect call and the
    /// <see cref="Q8Row"/> passed on the stack (about a sixth of the one-row kernel's CPU time per 2048-column row).
    /// </summary>
    public static void RowsAvx2(byte* weight, long rowBytes, int rowCount, Q8Row activation, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++) results[r] = Dot256<PairedMultiplyAdd>(weight + r * rowBytes, activation, blocks);
    }

    /// <summary><see cref="RowsAvx2"/> with the <see cref="AvxVnni"/> kernel.</summary>
    public static void RowsAvxVnni(byte* weight, long rowBytes, int rowCount, Q8Row activation, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++) results[r] = Dot256<VnniMultiplyAdd>(weight + r * rowBytes, activation, blocks);
    }

    /// <summary><see cref="RowsAvx2"/> with the <see cref="Avx512"/> kernel.</summary>
    public static void RowsAvx512(byte* weight, long rowBytes, int rowCount, Q8Row activation, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++) results[r] = Dot512(weight + r * rowBytes, activation, blocks);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot512(byte* weight, Q8Row activation, int blocks)
    {
        var lanes = GroupsAvx512(weight, activation, blocks / BlockGroups.Size, out var exponents);
        return BlockGroups.HadSpecial(exponents) ? Scalar(weight, activation, blocks) : WithTail(weight, activation, blocks, lanes);
    }
}
