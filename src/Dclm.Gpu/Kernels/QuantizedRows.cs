using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// A ggml Q8_0 or Q4_0 weight matrix (rows, columns) in device memory, multiplied as the CPU engine multiplies it: by
/// activations quantized to Q8_0 (<see cref="ElementKernels.QuantizeToQ8"/>), block b of a row giving the exact integer
/// T_b = Σ_j q_w[j]·q_a[j] and the combined scale c_b = d_w[b]·d_a[b] (<see cref="QuantizedMatrixKernels"/>).
/// Activation levels come packed four to an int (level 4k + i in byte i of int k), 8 ints per block.
/// </summary>
internal interface IQuantizedRows
{
    /// <summary>T_b: Σ_j q_w[row, 32·block + j]·q_a[j] with q_a the 8 packed ints at <paramref name="activation"/>.</summary>
    int BlockSum(int row, int block, ArrayView<int> levels, long activation);

    /// <summary>d_w of block <paramref name="block"/> of <paramref name="row"/>.</summary>
    float Scale(int row, int block);

    /// <summary>The integer weight level at (row, column), offset included (q − 8 for Q4_0): value = level·d_w.</summary>
    int Level(int row, int column);
}

/// <summary>
/// ggml Q8_0 kept in its blocks, split into two arrays so loads are aligned: per block its f16 scale d and its 32
/// signed levels q as 8 ints (level 4k + i in byte i of int k); value = q·d.
/// </summary>
internal struct Q8Rows(ArrayView<int> levels, ArrayView<ushort> scales, int blocks) : IQuantizedRows
{
    public ArrayView<int> Levels = levels;
    public ArrayView<ushort> Scales = scales;
    public int Blocks = blocks;

    public readonly int BlockSum(int row, int block, ArrayView<int> levels, long activation)
    {
        long at = ((long)row * Blocks + block) * 8;
        int sum = 0;
        for (int k = 0; k < 8; k++)
        {
            int w = Levels[at + k], a = levels[activation + k];
            sum += (sbyte)w * (sbyte)a + (sbyte)(w >> 8) * (sbyte)(a >> 8) + (sbyte)(w >> 16) * (sbyte)(a >> 16) + (sbyte)(w >> 24) * (sbyte)(a >> 24);
        }
        return sum;
    }

    public readonly float Scale(int row, int block) => DeviceNumbers.HalfToSingle(Scales[(long)row * Blocks + block]);

    public readonly int Level(int row, int column)
    {
        long block = (long)row * Blocks + column / 32;
        int within = column % 32;
        return (sbyte)(Levels[block * 8 + within / 4] >> (8 * (within % 4)));
    }
}

/// <summary>
/// ggml Q4_0 kept in its blocks: per block its f16 scale d and its 16 bytes of nibbles as 4 ints (byte j's low nibble
/// is element j, its high nibble element j + 16); value = (q − 8)·d.
/// </summary>
internal struct Q4Rows(ArrayView<int> nibbles, ArrayView<ushort> scales, int blocks) : IQuantizedRows
{
    public ArrayView<int> Nibbles = nibbles;
    public ArrayView<ushort> Scales = scales;
    public int Blocks = blocks;

    public readonly int BlockSum(int row, int block, ArrayView<int> levels, long activation)
    {
        long at = ((long)row * Blocks + block) * 4;
        int sum = 0;
        for (int k = 0; k < 4; k++)
        {
            // Int k holds nibble bytes 4k..4k+3: elements 4k+i (low) and 16+4k+i (high), i.e. activation ints k and 4 + k.
            int eight = Nibbles[at + k], low = levels[activation + k], high = levels[activation + 4 + k];
            for (int i = 0; i < 4; i++)
            {
                int b = (eight >> (8 * i)) & 0xFF;
                sum += ((b & 0xF) - 8) * (sbyte)(low >> (8 * i)) + ((b >> 4) - 8) * (sbyte)(high >> (8 * i));
            }
        }
        return sum;
    }

    public readonly float Scale(int row, int block) => DeviceNumbers.HalfToSingle(Scales[(long)row * Blocks + block]);

    public readonly int Level(int row, int column)
    {
        long block = (long)row * Blocks + column / 32;
        int within = column % 32, j = within % 16;
        int b = (Nibbles[block * 4 + j / 4] >> (8 * (j % 4))) & 0xFF;
        return (within < 16 ? b & 0xF : b >> 4) - 8;
    }
}
