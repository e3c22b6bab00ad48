using System.Numerics.Tensors;

namespace Dclm.Data.FastText;

/// <summary>
/// A fastText weight matrix (rows × columns): the input matrix holds one row per word and n-gram bucket, the
/// output matrix one row per label (or tree node). Dense or product-quantized.
/// </summary>
public abstract class FastTextMatrix
{
    /// <summary>Number of rows.</summary>
    public abstract long Rows { get; }

    /// <summary>Number of columns (the model's dimension).</summary>
    public abstract int Columns { get; }

    /// <summary>x += scale · row <paramref name="row"/>.</summary>
    public abstract void AddRowTo(Span<float> x, long row, float scale = 1f);

    /// <summary>x · row <paramref name="row"/>.</summary>
    public abstract float Dot(ReadOnlySpan<float> x, long row);

    /// <summary>
    /// <c>averageRowsToVector</c>: x = (Σ rows) · (1/n), summed in the order given (as fastText does, so the float
    /// result matches it).
    /// </summary>
    public void AverageRows(ReadOnlySpan<int> rows, Span<float> x)
    {
        x.Clear();
        foreach (int row in rows) AddRowTo(x, row);
        TensorPrimitives.Multiply(x, (float)(1.0 / rows.Length), x);
    }

    internal abstract void Write(BinaryWriter writer);
}

/// <summary>A dense float matrix, either in managed memory (a model being trained) or inside a mapped model file.</summary>
public sealed unsafe class DenseFastTextMatrix : FastTextMatrix
{
    private readonly float[]? _values;
    private readonly float* _pointer;
    private readonly long _rows;
    private readonly int _columns;

    /// <summary>A zero matrix of the given shape in managed memory.</summary>
    public DenseFastTextMatrix(long rows, int columns)
    {
        if (rows < 0 || columns < 1 || rows * columns > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(rows), $"matrix {rows} x {columns} is too large for one array");
        _rows = rows;
        _columns = columns;
        _values = GC.AllocateArray<float>((int)(rows * columns), pinned: true);
        fixed (float* pointer = _values) _pointer = pointer;
    }

    private DenseFastTextMatrix(float* pointer, long rows, int columns)
    {
        _pointer = pointer;
        _rows = rows;
        _columns = columns;
    }

    /// <inheritdoc />
    public override long Rows => _rows;

    /// <inheritdoc />
    public override int Columns => _columns;

    /// <summary>Row <paramref name="row"/> (writable only for managed matrices).</summary>
    public Span<float> Row(long row) => new(_pointer + row * _columns, _columns);

    /// <inheritdoc />
    public override void AddRowTo(Span<float> x, long row, float scale = 1f)
    {
        var values = new ReadOnlySpan<float>(_pointer + row * _columns, _columns);
        if (scale == 1f) TensorPrimitives.Add(x, values, x);
        else TensorPrimitives.MultiplyAdd(values, scale, x, x);
    }

    /// <inheritdoc />
    public override float Dot(ReadOnlySpan<float> x, long row)
    {
        // fastText sums j = 0..n-1 in order; a sequential loop keeps its float rounding.
        var values = new ReadOnlySpan<float>(_pointer + row * _columns, _columns);
        float sum = 0;
        for (int j = 0; j < values.Length; j++) sum += values[j] * x[j];
        return sum;
    }

    internal static DenseFastTextMatrix Read(FastTextReader reader, string what)
    {
        long rows = reader.Int64(), columns = reader.Int64();
        reader.Require(rows >= 0 && columns is >= 1 and <= 65536, $"{what} has shape {rows} x {columns}");
        reader.Require(rows <= reader.Remaining / 4 / columns, $"truncated: {what} of {rows} x {columns} floats needs {rows * columns * 4} bytes, {reader.Remaining} left");
        var pointer = (float*)reader.Take(rows * columns * 4, what);
        return new DenseFastTextMatrix(pointer, rows, (int)columns);
    }

    internal override void Write(BinaryWriter writer)
    {
        writer.Write(_rows);
        writer.Write((long)_columns);
        for (long r = 0; r < _rows; r++) writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<float>(_pointer + r * _columns, _columns)));
    }
}

/// <summary>
/// fastText's <c>QuantMatrix</c> (<c>.ftz</c> files): every row is a product-quantized code; with <c>qnorm</c> the
/// rows were normalized first and their norms are quantized by a one-dimensional quantizer.
/// </summary>
public sealed unsafe class QuantizedFastTextMatrix : FastTextMatrix
{
    private readonly byte* _codes;         // (rows, subquantizers)
    private readonly byte* _normCodes;     // (rows) when qnorm
    private readonly ProductQuantizer _quantizer;
    private readonly ProductQuantizer? _normQuantizer;
    private readonly long _rows;

    private QuantizedFastTextMatrix(long rows, byte* codes, ProductQuantizer quantizer, byte* normCodes, ProductQuantizer? normQuantizer)
    {
        _rows = rows;
        _codes = codes;
        _quantizer = quantizer;
        _normCodes = normCodes;
        _normQuantizer = normQuantizer;
    }

    /// <inheritdoc />
    public override long Rows => _rows;

    /// <inheritdoc />
    public override int Columns => _quantizer.Dimension;

    private float Norm(long row) => _normQuantizer is null ? 1f : _normQuantizer.Centroid(0, _normCodes[row])[0];

    private ReadOnlySpan<byte> Codes(long row) => new(_codes + row * _quantizer.Subquantizers, _quantizer.Subquantizers);

    /// <inheritdoc />
    public override void AddRowTo(Span<float> x, long row, float scale = 1f) => _quantizer.AddCode(x, Codes(row), scale * Norm(row));

    /// <inheritdoc />
    public override float Dot(ReadOnlySpan<float> x, long row) => _quantizer.MultiplyCode(x, Codes(row), Norm(row));

    internal static QuantizedFastTextMatrix Read(FastTextReader reader, string what)
    {
        bool quantizedNorms = reader.Boolean();
        long rows = reader.Int64(), columns = reader.Int64();
        int codeSize = reader.Int32();
        reader.Require(rows >= 0 && columns is >= 1 and <= 65536 && codeSize >= 0, $"{what} has shape {rows} x {columns} with {codeSize} code bytes");
        var codes = reader.Take(codeSize, $"{what} codes");
        var quantizer = ProductQuantizer.Read(reader);
        reader.Require(quantizer.Dimension == columns && (long)quantizer.Subquantizers * rows == codeSize,
            $"{what}: quantizer of dim {quantizer.Dimension} with {quantizer.Subquantizers} pieces does not fit {rows} x {columns} in {codeSize} code bytes");
        byte* normCodes = null;
        ProductQuantizer? normQuantizer = null;
        if (quantizedNorms)
        {
            normCodes = reader.Take(rows, $"{what} norm codes");
            normQuantizer = ProductQuantizer.Read(reader);
            reader.Require(normQuantizer.Dimension == 1 && normQuantizer.Subquantizers == 1, $"{what}: norm quantizer must be one-dimensional");
        }
        return new QuantizedFastTextMatrix(rows, codes, quantizer, normCodes, normQuantizer);
    }

    internal override void Write(BinaryWriter writer) =>
        throw new NotSupportedException("writing quantized matrices is not supported; save an unquantized model");
}
