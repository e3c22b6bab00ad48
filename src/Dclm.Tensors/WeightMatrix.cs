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

    public override string ToString() => $"{GgmlTypeInfo.Name(Type)}[{Rows}, {Columns}]";
}
