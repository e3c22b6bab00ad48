using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// A weight matrix (rows, columns) in device memory in one storage type, read by the matrix kernels: chunks of 32
/// columns (one ggml block) dotted with an activation row, or single elements for shared-memory tiles. Columns are a
/// multiple of 32. Quantized types are multiplied as their values q·d, against activations already rounded to Q8_0
/// values (<see cref="ElementKernels.RoundToQ8"/>), which is the product the CPU engine's integer kernels compute.
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

/// <summary>
/// ggml Q8_0 kept in its blocks, split into two arrays so loads are aligned: per block its f16 scale d and its 32
/// signed levels q as 8 ints (level 4k + i in byte i of int k); value = q·d.
/// </summary>
internal struct Q8Rows(ArrayView<int> levels, ArrayView<ushort> scales, int blocks) : IWeightRows
{
    public ArrayView<int> Levels = levels;
    public ArrayView<ushort> Scales = scales;
    public int Blocks = blocks;

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset)
    {
        long block = (long)row * Blocks + chunk, a = offset + chunk * 32;
        float sum = 0;
        for (int k = 0; k < 8; k++)
        {
            int four = Levels[block * 8 + k];
            sum += (sbyte)four * x[a + 4 * k] + (sbyte)(four >> 8) * x[a + 4 * k + 1]
                + (sbyte)(four >> 16) * x[a + 4 * k + 2] + (sbyte)(four >> 24) * x[a + 4 * k + 3];
        }
        return sum * DeviceNumbers.HalfToSingle(Scales[block]);
    }

    public readonly float Element(int row, int column)
    {
        long block = (long)row * Blocks + column / 32;
        int within = column % 32;
        int four = Levels[block * 8 + within / 4];
        return (sbyte)(four >> (8 * (within % 4))) * DeviceNumbers.HalfToSingle(Scales[block]);
    }
}

/// <summary>
/// ggml Q4_0 kept in its blocks: per block its f16 scale d and its 16 bytes of nibbles as 4 ints (byte j's low nibble
/// is element j, its high nibble element j + 16); value = (q − 8)·d.
/// </summary>
internal struct Q4Rows(ArrayView<int> nibbles, ArrayView<ushort> scales, int blocks) : IWeightRows
{
    public ArrayView<int> Nibbles = nibbles;
    public ArrayView<ushort> Scales = scales;
    public int Blocks = blocks;

    public readonly float DotChunk(int row, int chunk, ArrayView<float> x, long offset)
    {
        long block = (long)row * Blocks + chunk, a = offset + chunk * 32;
        float sum = 0;
        for (int k = 0; k < 4; k++)
        {
            int eight = Nibbles[block * 4 + k];
            for (int i = 0; i < 4; i++)
            {
                int b = (eight >> (8 * i)) & 0xFF;
                sum += ((b & 0xF) - 8) * x[a + 4 * k + i] + ((b >> 4) - 8) * x[a + 16 + 4 * k + i];
            }
        }
        return sum * DeviceNumbers.HalfToSingle(Scales[block]);
    }

    public readonly float Element(int row, int column)
    {
        long block = (long)row * Blocks + column / 32;
        int within = column % 32, j = within % 16;
        int b = (Nibbles[block * 4 + j / 4] >> (8 * (j % 4))) & 0xFF;
        int q = within < 16 ? b & 0xF : b >> 4;
        return (q - 8) * DeviceNumbers.HalfToSingle(Scales[block]);
    }
}
