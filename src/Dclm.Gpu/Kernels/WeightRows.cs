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
            sum += wc.X * ac.X;
            sum += wc.Y * ac.Y;
            sum += wc.Z * ac.Z;
            sum += wc.W * ac.W;
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

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset)
    {
        // 16-byte loads: the chunk's 16 pairs as 4 UInt4, its 32 activations as 8 Float4, summed in column order.
        var pairs = Data.Cast<UInt4>();
        var activations = x.Cast<Float4>();
        long w = ((long)row * Columns + chunk * 32) / 8, a = (offset + chunk * 32) / 4;
        float sum = 0;
        for (int c = 0; c < 4; c++)
        {
            UInt4 p = pairs[w + c];
            Float4 a0 = activations[a + 2 * c], a1 = activations[a + 2 * c + 1];
            sum += DeviceNumbers.HalfToSingle((int)(p.X & 0xFFFF)) * a0.X;
            sum += DeviceNumbers.HalfToSingle((int)(p.X >> 16)) * a0.Y;
            sum += DeviceNumbers.HalfToSingle((int)(p.Y & 0xFFFF)) * a0.Z;
            sum += DeviceNumbers.HalfToSingle((int)(p.Y >> 16)) * a0.W;
            sum += DeviceNumbers.HalfToSingle((int)(p.Z & 0xFFFF)) * a1.X;
            sum += DeviceNumbers.HalfToSingle((int)(p.Z >> 16)) * a1.Y;
            sum += DeviceNumbers.HalfToSingle((int)(p.W & 0xFFFF)) * a1.Z;
            sum += DeviceNumbers.HalfToSingle((int)(p.W >> 16)) * a1.W;
        }
        return sum;
    }

    public readonly float Element(int row, int column)
    {
        long i = (long)row * Columns + column;
        uint pair = Data[i / 2];
        return DeviceNumbers.HalfToSingle((int)((i & 1) == 0 ? pair & 0xFFFF : pair >> 16));
    }
}

/// <summary>bf16 weights, two per uint (element 2i in the low half), (rows, columns/2) uints.</summary>
internal struct BF16Rows(ArrayView<uint> data, int columns) : IWeightRows
{
    public ArrayView<uint> Data = data;
    public int Columns = columns;

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset)
    {
        // 16-byte loads: the chunk's 16 pairs as 4 UInt4, its 32 activations as 8 Float4, summed in column order.
        var pairs = Data.Cast<UInt4>();
        var activations = x.Cast<Float4>();
        long w = ((long)row * Columns + chunk * 32) / 8, a = (offset + chunk * 32) / 4;
        float sum = 0;
        for (int c = 0; c < 4; c++)
        {
            UInt4 p = pairs[w + c];
            Float4 a0 = activations[a + 2 * c], a1 = activations[a + 2 * c + 1];
            sum += Interop.IntAsFloat(p.X << 16) * a0.X;
            sum += Interop.IntAsFloat(p.X & 0xFFFF0000u) * a0.Y;
            sum += Interop.IntAsFloat(p.Y << 16) * a0.Z;
            sum += Interop.IntAsFloat(p.Y & 0xFFFF0000u) * a0.W;
            sum += Interop.IntAsFloat(p.Z << 16) * a1.X;
            sum += Interop.IntAsFloat(p.Z & 0xFFFF0000u) * a1.Y;
            sum += Interop.IntAsFloat(p.W << 16) * a1.Z;
            sum += Interop.IntAsFloat(p.W & 0xFFFF0000u) * a1.W;
        }
        return sum;
    }

    public readonly float Element(int row, int column)
    {
        long i = (long)row * Columns + column;
        uint pair = Data[i / 2];
        return Interop.IntAsFloat((i & 1) == 0 ? pair << 16 : pair & 0xFFFF0000u);
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
