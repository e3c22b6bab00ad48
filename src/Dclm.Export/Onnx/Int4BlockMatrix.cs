using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;

namespace Dclm.Export.Onnx;

/// <summary>
/// W (N outputs, K inputs) quantised to 4 bits in blocks along K for ONNX Runtime's <c>com.microsoft</c>
/// <c>MatMulNBits</c> (bits 4, symmetric, as the onnxruntime-genai model builder emits it by default): codes B of
/// (N, blocks, blockSize/2) bytes, two codes a byte, the lower-indexed in the low nibble; scales (N·blocks) floats; no
/// zero points, so each block decodes as (q − 8)·scale. K is padded with zeros to whole blocks.
/// </summary>
/// <remarks>
/// A block is quantised by ggml's Q4_0 rule: the value of largest magnitude m maps to −8, so scale = m/−8 and
/// q = min(15, ⌊x/scale + 8.5⌋). A Q4_0 matrix with blocks of 32 is repacked as it is, bit for bit. The codes are
/// written first; the scales, found while writing them, after (<see cref="WriteScales"/> refuses to run earlier).
/// </remarks>
internal sealed unsafe class Int4BlockMatrix
{
    private readonly WeightMatrix _matrix;
    private readonly int[]? _rowOrder;
    private readonly float[] _scales;
    private bool _coded;

    /// <summary>Quantises <paramref name="matrix"/> with output row n taken from source row <c>rowOrder[n]</c> (in order when null).</summary>
    public Int4BlockMatrix(WeightMatrix matrix, int blockSize, int[]? rowOrder)
    {
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0) throw new ArgumentException($"block size {blockSize} must be a power of two of at least 16", nameof(blockSize));
        _matrix = matrix;
        _rowOrder = rowOrder;
        BlockSize = blockSize;
        Blocks = (matrix.Columns + blockSize - 1) / blockSize;
        _scales = new float[(long)matrix.Rows * Blocks];
    }

    /// <summary>Values per block along K.</summary>
    public int BlockSize { get; }
    /// <summary>Blocks per output row: ⌈K / block size⌉.</summary>
    public int Blocks { get; }
    /// <summary>N.</summary>
    public int Outputs => _matrix.Rows;
    /// <summary>K.</summary>
    public int Inputs => _matrix.Columns;
    /// <summary>Shape of B.</summary>
    public long[] CodeShape => [Outputs, Blocks, BlockSize / 2];
    /// <summary>Shape of the scales.</summary>
    public long[] ScaleShape => [(long)Outputs * Blocks];

    /// <summary>Writes B, row after row, and keeps the scales for <see cref="WriteScales"/>.</summary>
    public void WriteCodes(Stream stream, CancellationToken cancellation)
    {
        int padded = Blocks * BlockSize;
        var row = new float[padded];
        var codes = new byte[padded / 2];
        bool repack = _matrix.Type == GgmlType.Q4_0 && BlockSize == 32;
        for (int n = 0; n < Outputs; n++)
        {
            if ((n & 255) == 0) cancellation.ThrowIfCancellationRequested();
            int source = _rowOrder?[n] ?? n;
            var scales = _scales.AsSpan(n * Blocks, Blocks);
            if (repack) RepackQ4_0(_matrix.Row(source), codes, scales);
            else
            {
                Dequantize.Row(_matrix, source, row);
                for (int b = 0; b < Blocks; b++)
                    scales[b] = QuantizeBlock(row.AsSpan(b * BlockSize, BlockSize), codes.AsSpan(b * BlockSize / 2, BlockSize / 2));
            }
            stream.Write(codes);
        }
        _coded = true;
    }

    /// <summary>Writes the scales found by <see cref="WriteCodes"/>.</summary>
    public void WriteScales(Stream stream, CancellationToken cancellation)
    {
        if (!_coded) throw new InvalidOperationException("the scales of an int4 matrix are known only after its codes are written");
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_scales.AsSpan()));
    }

    /// <summary>Codes of one block (two a byte, low nibble first); returns its scale.</summary>
    public static float QuantizeBlock(ReadOnlySpan<float> block, Span<byte> codes)
    {
        float magnitude = 0, extreme = 0;
        foreach (float x in block)
            if (Math.Abs(x) > magnitude) (magnitude, extreme) = (Math.Abs(x), x);
        float scale = extreme / -8, inverse = scale != 0 ? 1 / scale : 0;
        for (int j = 0; j < block.Length; j += 2)
        {
            int low = Math.Min(15, (int)(block[j] * inverse + 8.5f));
            int high = Math.Min(15, (int)(block[j + 1] * inverse + 8.5f));
            codes[j / 2] = (byte)(low | high << 4);
        }
        return scale;
    }

    /// <summary>
    /// One Q4_0 row (blocks of an f16 scale then 16 bytes whose low nibble is element j and high nibble element
    /// j+16) as MatMulNBits codes (byte j holds elements 2j and 2j+1) and float scales.
    /// </summary>
    private static void RepackQ4_0(byte* row, Span<byte> codes, Span<float> scales)
    {
        const int BlockBytes = 18;
        Span<byte> values = stackalloc byte[32];
        for (int b = 0; b < scales.Length; b++)
        {
            byte* block = row + b * BlockBytes;
            scales[b] = HalfConversion.ToSingle(*(ushort*)block);
            for (int j = 0; j < 16; j++)
            {
                values[j] = (byte)(block[2 + j] & 0xF);
                values[j + 16] = (byte)(block[2 + j] >> 4);
            }
            for (int j = 0; j < 16; j++) codes[b * 16 + j] = (byte)(values[2 * j] | values[2 * j + 1] << 4);
        }
    }
}
