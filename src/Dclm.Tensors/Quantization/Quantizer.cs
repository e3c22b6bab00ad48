using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Quantization;

/// <summary>
/// Converts float rows to and from ggml's storage types (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, Q8_K),
/// producing the same bytes as ggml's reference quantizers (quantize_row_*_ref, no importance matrix).
/// </summary>
public static unsafe class Quantizer
{
    /// <summary>True when this class converts to and from <paramref name="type"/>.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>
    /// Quantizes one row: destination receives GgmlTypeInfo.ByteCount(type, source.Length) bytes.
    /// source.Length must be a whole number of the type's blocks.
    /// </summary>
    public static void QuantizeRow(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        long bytes = CheckedByteCount(type, source.Length);
        if (destination.Length < bytes) throw new ArgumentException($"destination holds {destination.Length} bytes, fewer than the {bytes} of {source.Length} {GgmlTypeInfo.Name(type)} values", nameof(destination));
        fixed (float* x = source)
        fixed (byte* y = destination)
            QuantizeRow(type, x, y, source.Length);
    }

    /// <summary>
    /// Quantizes a row-major (rows, columns) matrix row by row into destination, rows split over
    /// <paramref name="pool"/> (single-threaded when null).
    /// </summary>
    public static void Quantize(GgmlType type, ReadOnlySpan<float> source, int rows, int columns, Span<byte> destination, ComputePool? pool = null)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), "rows must be non-negative");
        long rowBytes = CheckedByteCount(type, columns);
        if (source.Length < (long)rows * columns) throw new ArgumentException($"source holds {source.Length} values, fewer than {rows} × {columns}", nameof(source));
        if (destination.Length < rowBytes * rows) throw new ArgumentException($"destination holds {destination.Length} bytes, fewer than {rowBytes * rows}", nameof(destination));
        if (rows == 0 || columns == 0) return;
        fixed (float* x = source)
        fixed (byte* y = destination)
        {
            var job = new RowJob(type, x, y, rows, columns, rowBytes, quantize: true);
            if (pool is null || pool.Threads == 1 || rows == 1) job.Execute(0, 1);
            else pool.Run(job);
        }
    }

    /// <summary>Converts one stored row of <paramref name="type"/> back to floats.</summary>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int count = destination.Length;
        if (count % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"{count} values are not a whole number of {GgmlTypeInfo.Name(type)} blocks", nameof(destination));
        long bytes = CheckedByteCount(type, count);
        if (source.Length < bytes) throw new ArgumentException($"source holds {source.Length} bytes, fewer than the {bytes} of {count} {GgmlTypeInfo.Name(type)} values", nameof(source));
        fixed (byte* x = source)
        fixed (float* y = destination)
            DequantizeRow(type, x, y, count);
    }

    internal static void QuantizeRow(GgmlType type, float* x, byte* y, int count)
    {
        switch (type)
        {
            case GgmlType.F32: Buffer.MemoryCopy(x, y, (long)count * 4, (long)count * 4); break;
            case GgmlType.F16: HalfConversion.FromSingle(new ReadOnlySpan<float>(x, count), new Span<ushort>(y, count)); break;
            case GgmlType.BF16: BFloat16Conversion.FromSingle(x, (ushort*)y, count); break;
            case GgmlType.Q8_0: Q8_0.QuantizeRow(x, y, count); break;
            case GgmlType.Q4_0: Q4_0.QuantizeRow(x, y, count); break;
            case GgmlType.Q4_K: Q4_K.QuantizeRow(x, y, count); break;
            case GgmlType.Q6_K: Q6_K.QuantizeRow(x, y, count); break;
            case GgmlType.Q8_K: Q8_K.QuantizeRow(x, y, count); break;
            default: throw Unsupported(type);
        }
    }

    internal static void DequantizeRow(GgmlType type, byte* x, float* y, int count)
    {
        switch (type)
        {
            case GgmlType.F32: Buffer.MemoryCopy(x, y, (long)count * 4, (long)count * 4); break;
            case GgmlType.F16: HalfConversion.ToSingle((ushort*)x, y, count); break;
            case GgmlType.BF16: BFloat16Conversion.ToSingle((ushort*)x, y, count); break;
            case GgmlType.Q8_0: Q8_0.DequantizeRow(x, y, count); break;
            case GgmlType.Q4_0: Q4_0.DequantizeRow(x, y, count); break;
            case GgmlType.Q4_K: Q4_K.DequantizeRow(x, y, count); break;
            case GgmlType.Q6_K: Q6_K.DequantizeRow(x, y, count); break;
            case GgmlType.Q8_K: Q8_K.DequantizeRow(x, y, count); break;
            default: throw Unsupported(type);
        }
    }

    private static long CheckedByteCount(GgmlType type, int count)
    {
        if (!Supports(type)) throw Unsupported(type);
        long bytes = GgmlTypeInfo.ByteCount(type, count);
        if (bytes < 0) throw new ArgumentException($"{count} values are not a whole number of {GgmlTypeInfo.Name(type)} blocks of {GgmlTypeInfo.BlockSize(type)}");
        return bytes;
    }

    private static NotSupportedException Unsupported(GgmlType type) => new($"converting {GgmlTypeInfo.Name(type)} is not supported");

    /// <summary>Rows of a whole-matrix conversion, claimed a few at a time by each thread.</summary>
    private sealed class RowJob(GgmlType type, float* x, byte* y, int rows, int columns, long rowBytes, bool quantize) : ComputeJob
    {
        private int next;

        public override void Execute(int thread, int threads)
        {
            const int Chunk = 4;
            while (true)
            {
                int start = Interlocked.Add(ref next, Chunk) - Chunk;
                if (start >= rows) return;
                for (int r = start; r < Math.Min(rows, start + Chunk); r++)
                {
                    if (quantize) QuantizeRow(type, x + (long)r * columns, y + r * rowBytes, columns);
                    else DequantizeRow(type, y + r * rowBytes, x + (long)r * columns, columns);
                }
            }
        }
    }
}
