using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// A float weight matrix (rows, columns) in device memory in one storage type, read by the matrix kernels: chunks of
/// 32 columns dotted with an activation row, or single elements for shared-memory tiles. Columns are a multiple of 32.
/// The quantized types are <see cref="IQuantizedRows"/>.
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
        long w = (long)row * Columns + chunk * 32, a = offset + chunk * 32;
        float sum = 0;
        for (int c = 0; c < 32; c++) sum += Data[w + c] * x[a + c];
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
        long w = ((long)row * Columns + chunk * 32) / 2, a = offset + chunk * 32;
        float sum = 0;
        for (int c = 0; c < 16; c++)
        {
            uint pair = Data[w + c];
            sum += DeviceNumbers.HalfToSingle((int)(pair & 0xFFFF)) * x[a + 2 * c];
            sum += DeviceNumbers.HalfToSingle((int)(pair >> 16)) * x[a + 2 * c + 1];
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
        long w = ((long)row * Columns + chunk * 32) / 2, a = offset + chunk * 32;
        float sum = 0;
        for (int c = 0; c < 16; c++)
        {
            uint pair = Data[w + c];
            sum += Interop.IntAsFloat(pair << 16) * x[a + 2 * c];
            sum += Interop.IntAsFloat(pair & 0xFFFF0000u) * x[a + 2 * c + 1];
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

