namespace Dclm.Tensors;

/// <summary>
/// A read-only view of a row-major matrix (rows, columns) stored in any <see cref="GgmlType"/>,
/// usually pointing straight into a memory-mapped checkpoint. The view does not own its memory:
/// whoever created it keeps the mapping or buffer alive for as long as the view is used.
/// Each row starts on a block boundary because <see cref="Columns"/> is a whole number of blocks.
/// </summary>
public readonly unsafe struct WeightMatrix
{
    /// <summary>Address of row 0.</summary>
    public readonly byte* Data;
    /// <summary>Element type of every value.</summary>
    public readonly GgmlType Type;
    /// <summary>Number of rows (output features).</summary>
    public readonly int Rows;
    /// <summary>Number of columns (input features); a multiple of the type's block size.</summary>
    public readonly int Columns;

    public WeightMatrix(byte* data, GgmlType type, int rows, int columns)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), "matrix sizes must be non-negative");
        if (columns % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"{columns} columns are not a whole number of {GgmlTypeInfo.Name(type)} blocks of {GgmlTypeInfo.BlockSize(type)}");
        Data = data;
        Type = type;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Bytes in one row.</summary>
    public long RowBytes => GgmlTypeInfo.ByteCount(Type, Columns);

    /// <summary>Bytes in the whole matrix.</summary>
    public long ByteLength => RowBytes * Rows;

    /// <summary>Address of row <paramref name="row"/>.</summary>
    public byte* Row(int row) => Data + row * RowBytes;

    /// <summary>The rows [start, start + count) as their own matrix, sharing memory.</summary>
    public WeightMatrix RowSlice(int start, int count)
    {
        if ((uint)start > (uint)Rows || (uint)count > (uint)(Rows - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside a matrix of {Rows} rows");
        return new WeightMatrix(Data + start * RowBytes, Type, count, Columns);
    }

    /// <summary>
    /// The matrices as one, when each starts where the one before ends and all share type and columns
    /// (open_lm's fused in_proj and w12, or GGUF tensors written back to back); otherwise null.
    /// </summary>
    public static WeightMatrix? Adjacent(params ReadOnlySpan<WeightMatrix> parts)
    {
        if (parts.IsEmpty || parts[0].Data == null) return null;
        long rows = parts[0].Rows;
        for (int i = 1; i < parts.Length; i++)
        {
            var previous = parts[i - 1];
            if (parts[i].Type != previous.Type || parts[i].Columns != previous.Columns || parts[i].Data != previous.Data + previous.ByteLength) return null;
            rows += parts[i].Rows;
        }
        return rows > int.MaxValue ? null : new WeightMatrix(parts[0].Data, parts[0].Type, (int)rows, parts[0].Columns);
    }

    public override string ToString() => $"{GgmlTypeInfo.Name(Type)}[{Rows}, {Columns}]";
}
