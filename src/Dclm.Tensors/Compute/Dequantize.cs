namespace Dclm.Tensors.Compute;

/// <summary>Converts rows of a <see cref="WeightMatrix"/> to float.</summary>
public static unsafe class Dequantize
{
    /// <summary>destination[c] = weight[row, c] for c in [0, weight.Columns).</summary>
    // PLACEHOLDER: f32/f16/bf16 only, replaced by the kernels work.
    public static void Row(in WeightMatrix weight, int row, Span<float> destination)
    {
        byte* p = weight.Row(row);
        int n = weight.Columns;
        switch (weight.Type)
        {
            case GgmlType.F32:
                new ReadOnlySpan<float>(p, n).CopyTo(destination);
                break;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) destination[i] = (float)((Half*)p)[i];
                break;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++) destination[i] = BitConverter.Int32BitsToSingle(((ushort*)p)[i] << 16);
                break;
            default:
                throw new NotSupportedException($"dequantizing {GgmlTypeInfo.Name(weight.Type)} is not supported");
        }
    }
}
