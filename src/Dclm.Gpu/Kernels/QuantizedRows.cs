using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// A ggml Q8_0 or Q4_0 weight matrix (rows, columns) in device memory, multiplied as the CPU engine multiplies it: by
/// activations quantized to Q8_0 (<see cref="ElementKernels.QuantizeToQ8"/>), block b of a row giving the exact integer
/// T_b = Σ_j q_w[j]·q_a[j] and the combined scale c_b = d_w[b]·d_a[b] (<see cref="QuantizedMatrixKernels"/>).
/// Activation levels come packed four to an int (level 4k + i in byte i of int k), 8 ints per block, read as two
/// <see cref="Int4"/> so each lane issues 16-byte loads.
/// </summary>
internal interface IQuantizedRows
{
    /// <summary>T_b: Σ_j q_w[row, 32·block + j]·q_a[j] with q_a the 32 levels of <paramref name="levels"/>[2·activationBlock ..].</summary>
    int BlockSum(int row, int block, ArrayView<Int4> levels, long activationBlock);

    /// <summary>d_w of block <paramref name="block"/> of <paramref name="row"/>.</summary>
    float Scale(int row, int block);

    /// <summary>The integer weight level at (row, column), offset included (q − 8 for Q4_0): value = level·d_w.</summary>
    int Level(int row, int column);

    /// <summary>
    /// The levels of columns 32·block + 4k .. 32·block + 4k + 3 of <paramref name="row"/> (k in 0..7), offset included, as
    /// four signed bytes (column 4k + i in byte i): the packing of an s8 tensor-core fragment register.
    /// </summary>
    int PackedLevels(int row, int block, int k);
}

/// <summary>
/// ggml Q8_0 kept in its blocks, split into two arrays so loads are aligned: per block its f16 scale d and its 32
/// signed levels q as 8 ints (level 4k + i in byte i of int k); value = q·d.
/// </summary>
internal struct Q8Rows(ArrayView<int> levels, ArrayView<ushort> scales, int blocks) : IQuantizedRows
{
    public ArrayView<int> Levels = levels;
    /// <summary>The levels as two <see cref="Int4"/> per block.</summary>
    public ArrayView<Int4> Wide = levels.Cast<Int4>();
    public ArrayView<ushort> Scales = scales;
    public int Blocks = blocks;

    public readonly int BlockSum(int row, int block, ArrayView<Int4> levels, long activationBlock)
    {
        long at = ((long)row * Blocks + block) * 2;
        Int4 w0 = Wide[at], w1 = Wide[at + 1], a0 = levels[2 * activationBlock], a1 = levels[2 * activationBlock + 1];
        // Eight byte dots (dp4a on CUDA), one per int of the block.
        int sum = DeviceNumbers.ByteDot(w0.X, a0.X, 0);
        sum = DeviceNumbers.ByteDot(w0.Y, a0.Y, sum);
        sum = DeviceNumbers.ByteDot(w0.Z, a0.Z, sum);
        sum = DeviceNumbers.ByteDot(w0.W, a0.W, sum);
        sum = DeviceNumbers.ByteDot(w1.X, a1.X, sum);
        sum = DeviceNumbers.ByteDot(w1.Y, a1.Y, sum);
        sum = DeviceNumbers.ByteDot(w1.Z, a1.Z, sum);
        return DeviceNumbers.ByteDot(w1.W, a1.W, sum);
    }

    public readonly float Scale(int row, int block) => DeviceNumbers.HalfToSingle(Scales[(long)row * Blocks + block]);

    public readonly int Level(int row, int column)
    {
        long block = (long)row * Blocks + column / 32;
        int within = column % 32;
        return (sbyte)(Levels[block * 8 + within / 4] >> (8 * (within % 4)));
    }

    public readonly int PackedLevels(int row, int block, int k) => Levels[((long)row * Blocks + block) * 8 + k];
}

/// <summary>
/// ggml Q4_0 kept in its blocks: per block its f16 scale d and its 16 bytes of nibbles as 4 ints (byte j's low nibble
/// is element j, its high nibble element j + 16); value = (q − 8)·d.
/// </summary>
internal struct Q4Rows(ArrayView<int> nibbles, ArrayView<ushort> scales, int blocks) : IQuantizedRows
{
    public ArrayView<int> Nibbles = nibbles;
    /// <summary>The nibbles as one <see cref="Int4"/> per block.</summary>
    public ArrayView<Int4> Wide = nibbles.Cast<Int4>();
    public ArrayView<ushort> Scales = scales;
    public int Blocks = blocks;

    public readonly int BlockSum(int row, int block, ArrayView<Int4> levels, long activationBlock)
    {
        // Int k of the block holds nibble bytes 4k..4k+3: elements 4k+i (low nibbles) and 16+4k+i (high), which are
        // activation ints k (of the first Int4) and 4 + k (of the second). Masks leave each nibble q in its own byte
        // (0..15, so a signed byte too), dotted with the activations as bytes; the offset is taken once per block:
        // Σ_j (q_j − 8)·a_j = Σ_j q_j·a_j − 8·Σ_j a_j, all in exact integers.
        Int4 w = Wide[(long)row * Blocks + block], low = levels[2 * activationBlock], high = levels[2 * activationBlock + 1];
        int sum = DeviceNumbers.ByteDot(w.X & LowNibbles, low.X, 0);
        sum = DeviceNumbers.ByteDot(w.Y & LowNibbles, low.Y, sum);
        sum = DeviceNumbers.ByteDot(w.Z & LowNibbles, low.Z, sum);
        sum = DeviceNumbers.ByteDot(w.W & LowNibbles, low.W, sum);
        sum = DeviceNumbers.ByteDot((w.X >> 4) & LowNibbles, high.X, sum);
        sum = DeviceNumbers.ByteDot((w.Y >> 4) & LowNibbles, high.Y, sum);
        sum = DeviceNumbers.ByteDot((w.Z >> 4) & LowNibbles, high.Z, sum);
        sum = DeviceNumbers.ByteDot((w.W >> 4) & LowNibbles, high.W, sum);
        int activations = DeviceNumbers.ByteDot(OneBytes, low.X, 0);
        activations = DeviceNumbers.ByteDot(OneBytes, low.Y, activations);
        activations = DeviceNumbers.ByteDot(OneBytes, low.Z, activations);
        activations = DeviceNumbers.ByteDot(OneBytes, low.W, activations);
        activations = DeviceNumbers.ByteDot(OneBytes, high.X, activations);
        activations = DeviceNumbers.ByteDot(OneBytes, high.Y, activations);
        activations = DeviceNumbers.ByteDot(OneBytes, high.Z, activations);
        activations = DeviceNumbers.ByteDot(OneBytes, high.W, activations);
        return sum - 8 * activations;
    }

    /// <summary>The low nibble of each byte.</summary>
    private const int LowNibbles = 0x0F0F0F0F;
    /// <summary>Four bytes of 1: a byte dot with them sums four signed levels.</summary>
    private const int OneBytes = 0x01010101;

    public readonly float Scale(int row, int block) => DeviceNumbers.HalfToSingle(Scales[(long)row * Blocks + block]);

    public readonly int Level(int row, int column)
    {
        long block = (long)row * Blocks + column / 32;
        int within = column % 32, j = within % 16;
        int b = (Nibbles[block * 4 + j / 4] >> (8 * (j % 4))) & 0xFF;
        return (within < 16 ? b & 0xF : b >> 4) - 8;
    }

    public readonly int PackedLevels(int row, int block, int k)
    {
        // Columns 4k..4k+3 are the low nibbles of int k (k < 4) or the high nibbles of int k − 4. A nibble v becomes the
        // byte v − 8: v ^ 8 is v − 8 as a 4-bit two's complement number, and its bit 3 (the sign) times 0x1E fills the
        // byte's upper half (0x08·0x1E = 0xF0, so no byte carries into the next).
        uint packed = (uint)Nibbles[((long)row * Blocks + block) * 4 + (k & 3)];
        uint nibbles = (k < 4 ? packed : packed >> 4) & 0x0F0F0F0Fu;
        uint centred = nibbles ^ 0x08080808u;
        return (int)(centred | ((centred & 0x08080808u) * 0x1Eu));
    }
}

/// <summary>Four ints read as one 16-byte load (blocks start 16-byte aligned in device buffers).</summary>
internal struct Int4
{
    public int X, Y, Z, W;
}
