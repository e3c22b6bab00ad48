using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>Matrix transpose in cache-friendly blocks.</summary>
public static class Transpose
{
    /// <summary>destination (columns, rows) = sourceᵀ for source (rows, columns).</summary>
    public static unsafe void Rows(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination, ComputePool pool)
    {
        if (source.Length < (long)rows * columns || destination.Length < (long)rows * columns) throw new ArgumentException("buffers too small for the matrix");
        fixed (float* ps = source, pd = destination)
        {
            float* s = ps, dst = pd;
            // Blocks of 32 source rows keep both sides' cache lines in use.
            ParallelRows.Run(pool, (rows + 31) / 32, (start, end) =>
            {
                for (int block = start; block < end; block++)
                {
                    int r0 = block * 32, r1 = Math.Min(rows, r0 + 32);
                    for (int c0 = 0; c0 < columns; c0 += 32)
                    {
                        int c1 = Math.Min(columns, c0 + 32);
                        for (int r = r0; r < r1; r++)
                            for (int c = c0; c < c1; c++) dst[(long)c * rows + r] = s[(long)r * columns + c];
                    }
                }
            }, chunk: 4);
        }
    }
}
