using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Compute;

/// <summary>Converts rows of a <see cref="WeightMatrix"/> to float.</summary>
public static unsafe class Dequantize
{
    /// <summary>destination[c] = weight[row, c] for c in [0, weight.Columns).</summary>
    public static void Row(in WeightMatrix weight, int row, Span<float> destination)
    {
        if ((uint)row >= (uint)weight.Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside a matrix of {weight.Rows} rows");
        if (destination.Length < weight.Columns) throw new ArgumentException($"destination holds {destination.Length} values, fewer than {weight.Columns} columns", nameof(destination));
        if (!Quantizer.Supports(weight.Type)) throw new NotSupportedException($"dequantizing {GgmlTypeInfo.Name(weight.Type)} is not supported");
        fixed (float* y = destination)
            Quantizer.DequantizeRow(weight.Type, weight.Row(row), y, weight.Columns);
    }
}
