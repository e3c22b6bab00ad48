namespace Dclm.Tensors.Compute;

/// <summary>Matrix products against weight matrices of any supported <see cref="GgmlType"/>.</summary>
public static unsafe class MatMul
{
    /// <summary>
    /// destination[t, r] = Σ_c input[t, c] · weight[r, c], for input (tokens, weight.Columns) and
    /// destination (tokens, weight.Rows), both row-major.
    /// </summary>
    // PLACEHOLDER: scalar float path only, replaced by the kernels work.
    public static void Multiply(ReadOnlySpan<float> input, int tokens, in WeightMatrix weight, Span<float> destination, ComputePool? pool = null)
    {
        int cols = weight.Columns, rows = weight.Rows;
        if (input.Length < (long)tokens * cols) throw new ArgumentException("input is shorter than tokens × columns");
        if (destination.Length < (long)tokens * rows) throw new ArgumentException("destination is shorter than tokens × rows");
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            Dequantize.Row(weight, r, row);
            for (int t = 0; t < tokens; t++)
            {
                double sum = 0;
                var x = input.Slice(t * cols, cols);
                for (int c = 0; c < cols; c++) sum += x[c] * row[c];
                destination[t * rows + r] = (float)sum;
            }
        }
    }
}
