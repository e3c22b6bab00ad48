namespace Dclm.Tensors.Compute;

internal static unsafe partial class DotQ8_0
{
    /// <summary>
    /// results[r] = weight row r · <paramref name="activation"/> for <paramref name="rowCount"/> rows
    /// <paramref name="rowBytes"/> apart, each exactly the bits of <see cref="Avx2"/> for that row: the kernel inlined
    /// into a loop over the rows, so a decode product pays once, not per row, for the indirect call and the
    /// <see cref="Q8Row"/> passed on the stack.
    /// </summary>
    public static void RowsAvx2(byte* weight, long rowBytes, int rowCount, Q8Row activation, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++) results[r] = Dot<GatheredScales, PairedMultiplyAdd>(weight + r * rowBytes, activation, blocks);
    }

    /// <summary><see cref="RowsAvx2"/> with the <see cref="AvxVnni"/> kernel.</summary>
    public static void RowsAvxVnni(byte* weight, long rowBytes, int rowCount, Q8Row activation, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++) results[r] = Dot<GatheredScales, VnniMultiplyAdd>(weight + r * rowBytes, activation, blocks);
    }

    /// <summary><see cref="RowsAvx2"/> with the <see cref="Avx512"/> kernel.</summary>
    public static void RowsAvx512(byte* weight, long rowBytes, int rowCount, Q8Row activation, int blocks, float* results)
    {
        for (int r = 0; r < rowCount; r++) results[r] = Dot<PermutedScales, PairedMultiplyAdd>(weight + r * rowBytes, activation, blocks);
    }
}
