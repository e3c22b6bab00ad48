namespace Dclm.Tensors.Compute;

/// <summary>The float-weight (F32, F16, BF16) family of <see cref="MatMulJob"/>.</summary>
internal sealed unsafe partial class MatMulJob
{
    private delegate*<float*, byte*, int, float> floatKernel;
    private delegate*<float*, long, byte*, int, float*, void> floatTokens4;
    private long inputStride;

    private void PrepareFloat(float* x, int tokenCount, GgmlType type, int columns, KernelIsa isa)
    {
        floatKernel = DotKernels.Float(type, isa);
        CopyAligned(x, tokenCount, columns);
        floatTokens4 = DotKernels.FloatTokens4(type, isa);
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

    /// <summary>Rows [start, end) for every token: four tokens at a time where a tile kernel exists, then the rest one by one.</summary>
    private void RunFloatRows(int start, int end)
    {
        int columns = weight.Columns, rows = weight.Rows, first = 0;
        long rowBytes = weight.RowBytes;
        byte* data = weight.Data;
        if (floatTokens4 != null)
        {
            float* results = stackalloc float[4];
            for (; first + 4 <= tokens; first += 4)
                for (int r = start; r < end; r++)
                {
                    floatTokens4(input + first * inputStride, inputStride, data + r * rowBytes, columns, results);
                    for (int k = 0; k < 4; k++) output[(long)(first + k) * rows + r] = results[k];
                }
        }
        for (int r = start; r < end; r++)
            for (int t = first; t < tokens; t++)
                output[(long)t * rows + r] = floatKernel(input + t * inputStride, data + r * rowBytes, columns);
    }
}
