using System.Runtime.InteropServices;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using DataType = Dclm.Formats.Onnx.TensorProto.Types.DataType;

namespace Dclm.Export.Onnx;

/// <summary>
/// The bytes of float weights as an ONNX graph wants them, converted from any stored type (F32, F16, BF16 or a
/// ggml quantisation, dequantised) a piece at a time while the file is written.
/// </summary>
internal static unsafe class WeightData
{
    // Columns of the source converted per pass of a transpose: a multiple of every ggml block size (32, 256).
    private const int TileColumns = 256;

    /// <summary>
    /// Wᵀ of W (outputs, inputs), i.e. (inputs, outputs), as <paramref name="type"/>: the B of a MatMul y = x·B.
    /// Output column n is source row <c>rowOrder[n]</c> (all rows in order when null). Memory: two tiles of
    /// (outputs × 256) floats.
    /// </summary>
    public static Action<Stream, CancellationToken> Transposed(WeightMatrix m, DataType type, int[]? rowOrder) => (stream, cancellation) =>
    {
        int rows = m.Rows, columns = m.Columns;
        int tile = Math.Min(columns, TileColumns / GgmlTypeInfo.BlockSize(m.Type) * GgmlTypeInfo.BlockSize(m.Type));
        var source = new float[(long)rows * tile];
        var transposed = new float[(long)rows * tile];
        var bytes = new byte[(long)rows * OnnxGraph.ElementSize(type)];
        for (int start = 0; start < columns; start += tile)
        {
            cancellation.ThrowIfCancellationRequested();
            int width = Math.Min(tile, columns - start);
            // source[r, c] = W[order[r], start + c] for c < width
            long offset = GgmlTypeInfo.ByteCount(m.Type, start);
            for (int r = 0; r < rows; r++)
            {
                var segment = new WeightMatrix(m.Row(rowOrder?[r] ?? r) + offset, m.Type, 1, width);
                Dequantize.Row(segment, 0, source.AsSpan(r * tile, width));
            }
            Transpose(source, rows, tile, width, transposed);
            for (int c = 0; c < width; c++)
            {
                Convert(transposed.AsSpan(c * rows, rows), type, bytes);
                stream.Write(bytes);
            }
        }
    };

    /// <summary>W (rows, columns) as stored, row by row, as <paramref name="type"/> (an embedding table for Gather).</summary>
    public static Action<Stream, CancellationToken> Rows(WeightMatrix m, DataType type) => (stream, cancellation) =>
    {
        var row = new float[m.Columns];
        var bytes = new byte[(long)m.Columns * OnnxGraph.ElementSize(type)];
        for (int r = 0; r < m.Rows; r++)
        {
            if ((r & 1023) == 0) cancellation.ThrowIfCancellationRequested();
            Dequantize.Row(m, r, row);
            Convert(row, type, bytes);
            stream.Write(bytes);
        }
    };

    /// <summary>A vector (a norm's gain, a bias) as <paramref name="type"/>.</summary>
    public static Action<Stream, CancellationToken> Vector(float[] values, DataType type) => (stream, _) =>
    {
        var bytes = new byte[(long)values.Length * OnnxGraph.ElementSize(type)];
        Convert(values, type, bytes);
        stream.Write(bytes);
    };

    /// <summary>destination = values as little-endian float32 or float16.</summary>
    public static void Convert(ReadOnlySpan<float> values, DataType type, Span<byte> destination)
    {
        switch (type)
        {
            case DataType.Float: MemoryMarshal.AsBytes(values).CopyTo(destination); break;
            case DataType.Float16: System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(destination)); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), $"weights are written as float or float16, not {type}");
        }
    }

    /// <summary>transposed[c, r] = source[r, c] for r &lt; rows, c &lt; width; source rows are <paramref name="stride"/> apart.</summary>
    private static void Transpose(float[] source, int rows, int stride, int width, float[] transposed)
    {
        // 32×32 blocks keep both sides in cache.
        const int Block = 32;
        for (int r0 = 0; r0 < rows; r0 += Block)
            for (int c0 = 0; c0 < width; c0 += Block)
            {
                int r1 = Math.Min(rows, r0 + Block), c1 = Math.Min(width, c0 + Block);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++)
                        transposed[(long)c * rows + r] = source[(long)r * stride + c];
            }
    }
}
