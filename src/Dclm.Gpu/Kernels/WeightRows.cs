using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// A float weight matrix (rows, columns) in device memory in one storage type, read by the matrix kernels: chunks of
/// 32 columns dotted with an activation row, or single elements for shared-memory tiles. Columns are a multiple of 32.
/// The quantized types are <see cref="IQuantizedRows"/>. Decode reads a chunk with 16-byte loads; every view starts at
/// the start of its buffer (device allocations are 256-byte aligned) and rows are multiples of 32 values, so they align.
/// </summary>
internal interface IWeightRows
{
    /// <summary>Σ_c W[row, c]·x[offset + c] over the 32 columns of chunk <paramref name="chunk"/>.</summary>
    float DotChunk(int row, int chunk, ArrayView<float> x, long offset);

    /// <summary>W[row, column].</summary>
    float Element(int row, int column);
}

/// <summary>f32 weights, (rows, columns) floats.</summary>
internal struct F32Rows(ArrayView<float> data, int columns) : IWeightRows
{
    public ArrayView<float> Data = data;
    public int Columns = columns;

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset)
    {
        // 16-byte loads: the chunk's 32 weights and 32 activations as 8 Float4 each, summed in column order.
        var weights = Data.Cast<Float4>();
        var activations = x.Cast<Float4>();
        long w = ((long)row * Columns + chunk * 32) / 4, a = (offset + chunk * 32) / 4;
        float sum = 0;
        for (int c = 0; c < 8; c++)
        {
            Float4 wc = weights[w + c], ac = activations[a + c];
            sum = DeviceNumbers.FusedMultiplyAdd(wc.X, ac.X, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(wc.Y, ac.Y, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(wc.Z, ac.Z, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(wc.W, ac.W, sum);
        }
        return sum;
    }

    public readonly float Element(int row, int column) => Data[(long)row * Columns + column];
}

/// <summary>f16 weights, two per uint (element 2i in the low half), (rows, columns/2) uints.</summary>
internal struct F16Rows(ArrayView<uint> data, int columns) : IWeightRows
{
    public ArrayView<uint> Data = data;
    public int Columns = columns;

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset) => HalfPairRows.DotChunk<F16Pair>(Data, Columns, row, chunk, x, offset);

    public readonly float Element(int row, int column) => HalfPairRows.Element<F16Pair>(Data, Columns, row, column);
}

/// <summary>bf16 weights, two per uint (element 2i in the low half), (rows, columns/2) uints.</summary>
internal struct BF16Rows(ArrayView<uint> data, int columns) : IWeightRows
{
    public ArrayView<uint> Data = data;
    public int Columns = columns;

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset) => HalfPairRows.DotChunk<BF16Pair>(Data, Columns, row, chunk, x, offset);

    public readonly float Element(int row, int column) => HalfPairRows.Element<BF16Pair>(Data, Columns, row, column);
}

/// <summary>How a 16-bit float format widens the two values of a uint: element 2i in the low half, 2i + 1 in the high.</summary>
internal interface IHalfPair
{
    float Low(uint pair);

    float High(uint pair);
}

/// <summary>IEEE half precision.</summary>
internal readonly struct F16Pair : IHalfPair
{
    public float Low(uint pair) => DeviceNumbers.HalfToSingle((int)(pair & 0xFFFF));

    public float High(uint pair) => DeviceNumbers.HalfToSingle((int)(pair >> 16));
}

/// <summary>bfloat16: the upper 16 bits of an f32.</summary>
internal readonly struct BF16Pair : IHalfPair
{
    public float Low(uint pair) => Interop.IntAsFloat(pair << 16);

    public float High(uint pair) => Interop.IntAsFloat(pair & 0xFFFF0000u);
}

/// <summary>The f16 and bf16 matrices' reads, one code for both formats.</summary>
internal static class HalfPairRows
{
    /// <summary>Σ_c W[row, c]·x[offset + c] over chunk <paramref name="chunk"/>'s 32 columns of (rows, columns) values stored in pairs.</summary>
    public static float DotChunk<TPair>(ArrayView<uint> data, int columns, int row, int chunk, ArrayView<float> x, long offset)
        where TPair : struct, IHalfPair
    {
        // 16-byte loads: the chunk's 16 pairs as 4 UInt4, its 32 activations as 8 Float4, summed in column order.
        var pairs = data.Cast<UInt4>();
        var activations = x.Cast<Float4>();
        var format = default(TPair);
        long w = ((long)row * columns + chunk * 32) / 8, a = (offset + chunk * 32) / 4;
        float sum = 0;
        for (int c = 0; c < 4; c++)
        {
            UInt4 p = pairs[w + c];
            Float4 a0 = activations[a + 2 * c], a1 = activations[a + 2 * c + 1];
            sum = DeviceNumbers.FusedMultiplyAdd(format.Low(p.X), a0.X, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.High(p.X), a0.Y, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.Low(p.Y), a0.Z, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.High(p.Y), a0.W, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.Low(p.Z), a1.X, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.High(p.Z), a1.Y, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.Low(p.W), a1.Z, sum);
            sum = DeviceNumbers.FusedMultiplyAdd(format.High(p.W), a1.W, sum);
        }
        return sum;
    }

    /// <summary>W[row, column].</summary>
    public static float Element<TPair>(ArrayView<uint> data, int columns, int row, int column) where TPair : struct, IHalfPair
    {
        long i = (long)row * columns + column;
        uint pair = data[i / 2];
        return (i & 1) == 0 ? default(TPair).Low(pair) : default(TPair).High(pair);
    }
}

/// <summary>Four floats read as one 16-byte load (chunks start 16-byte aligned in device buffers).</summary>
internal struct Float4
{
    public float X, Y, Z, W;
}

/// <summary>Four uints (eight f16 or bf16 values) read as one 16-byte load.</summary>
internal struct UInt4
{
    public uint X, Y, Z, W;
}
