namespace Dclm.Tensors.Compute;

/// <summary>The float-weight (F32, F16, BF16) family of <see cref="MatMulJob"/>.</summary>
internal sealed unsafe partial class MatMulJob
{
    private delegate*<float*, byte*, int, float> floatKernel;
    private delegate*<float*, long, byte*, long, int, float*, long, void> floatRows4Tokens4;
    private delegate*<float*, byte*, long, int, float*, void> floatRows4Token1;
    private long inputStride;
    private const int PrefetchGroupsAhead = 2;
    private const long MaxPrefetchedGroupBytes = 4096;
    // Matrices larger than this are prefetched non-temporally: read once per step, they would otherwise
    // push the smaller matrices that every step reads again out of the last-level cache.
    private const long StreamedMatrixBytes = 8L << 20;

    private void PrepareFloat(float* x, int tokenCount, GgmlType type, int columns, KernelIsa isa)
    {
        floatKernel = DotKernels.Float(type, isa);
        CopyAligned(x, tokenCount, columns);
        floatRows4Tokens4 = DotKernels.FloatRows4Tokens4(type, isa);
        floatRows4Token1 = DotKernels.FloatRows4Token1(type, isa);
    }

    /// <summary>
    /// Copies the float input rows into 64-byte aligned scratch, each row starting on a 64-byte
    /// boundary: the float kernels load 64 bytes at a time, and rows of a managed array sit at an
    /// arbitrary 16-byte offset, where every such load would split two cache lines. The copy is
    /// tokens × columns floats, small next to the rows × columns weights streamed.
    /// </summary>
    private void CopyAligned(float* x, int tokenCount, int columns)
    {
        inputStride = (columns + 15) & ~15L;
        float* aligned = (float*)ScratchBuffer.Activations.Get((nuint)(inputStride * tokenCount * sizeof(float)));
        for (int t = 0; t < tokenCount; t++)
            Buffer.MemoryCopy(x + (long)t * columns, aligned + t * inputStride, (long)columns * sizeof(float), (long)columns * sizeof(float));
        input = aligned;
    }

    /// <summary>
    /// Rows [start, end) for every token: four rows at a time against four tokens, then against the
    /// remaining tokens one by one (each group of rows stays in L1 while every token passes over it),
    /// then the rows left over one by one. All paths give a (row, token) pair the same bits.
    /// </summary>
    /// <remarks>
    /// Short rows (a dim-256 model's 512-byte bf16 rows) are prefetched two groups ahead: a group is then
    /// only a few lines per row, and the hardware prefetchers, which follow each row's stream, never get
    /// far enough ahead. One-token steps of a dim-256, 8-layer bf16 model measured 1.3-1.8x faster with it.
    /// Long rows are left to the hardware (prefetching a whole group would evict the current one from L1).
    /// A matrix over 8 MB (a small model's output head: 50k rows) is prefetched non-temporally, so the
    /// layers' weights and the KV cache stay in the last-level cache from one step to the next: the
    /// dim-256 model's one-token step measured 1.40-1.86 -> 1.0-1.41 ms (medians of three sets of five
    /// alternated runs), eight tokens unchanged.
    /// </remarks>
    private void RunFloatRows(int start, int end)
    {
        int columns = weight.Columns, rows = weight.Rows, r = start;
        long rowBytes = weight.RowBytes;
        byte* data = weight.Data;
        if (floatRows4Tokens4 != null)
        {
            long groupBytes = 4 * rowBytes;
            bool prefetch = groupBytes <= MaxPrefetchedGroupBytes && System.Runtime.Intrinsics.X86.Sse.IsSupported;
            bool streamed = weight.ByteLength > StreamedMatrixBytes;
            for (; r + 4 <= end; r += 4)
            {
                byte* group = data + r * rowBytes;
                if (prefetch && r + 4 * (PrefetchGroupsAhead + 1) <= rows)
                {
                    if (streamed) PrefetchNonTemporal(group + PrefetchGroupsAhead * groupBytes, groupBytes);
                    else Prefetch(group + PrefetchGroupsAhead * groupBytes, groupBytes);
                }
                int t = 0;
                for (; t + 4 <= tokens; t += 4)
                    floatRows4Tokens4(input + t * inputStride, inputStride, group, rowBytes, columns, output + (long)t * rows + r, rows);
                for (; t < tokens; t++)
                    floatRows4Token1(input + t * inputStride, group, rowBytes, columns, output + (long)t * rows + r);
            }
        }
        for (; r < end; r++)
            for (int t = 0; t < tokens; t++)
                output[(long)t * rows + r] = floatKernel(input + t * inputStride, data + r * rowBytes, columns);
    }

    private static void PrefetchNonTemporal(byte* start, long bytes)
    {
        for (long offset = 0; offset < bytes; offset += 64) System.Runtime.Intrinsics.X86.Sse.PrefetchNonTemporal(start + offset);
    }

    private static void Prefetch(byte* start, long bytes)
    {
        for (long offset = 0; offset < bytes; offset += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(start + offset);
    }
}
