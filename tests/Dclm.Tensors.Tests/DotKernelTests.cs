using System.Runtime.InteropServices;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

/// <summary>
/// Every SIMD dot kernel against its scalar reference at every size 0..257, on random raw blocks.
/// With unit scales and small activations every partial sum is an integer below 2^24, so float arithmetic is exact and the
/// integer paths must agree exactly; with random scales they agree to float rounding, except Q8_0 and Q4_0, whose kernels
/// share the reference's float arithmetic and must agree exactly.
/// </summary>
public unsafe class DotKernelTests
{
    private static IEnumerable<KernelIsa> SimdLevels() =>
        Enum.GetValues<KernelIsa>().Where(isa => isa != KernelIsa.Scalar && KernelIsaInfo.IsSupported(isa));

    /// <summary>Random weight blocks of a type; unit scales when asked (f16 1.0 = 0x3C00).</summary>
    private static byte[] RandomRow(GgmlType type, int blocks, Random random, bool unitScales)
    {
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        var row = new byte[blocks * blockBytes + 64];
        random.NextBytes(row);
        for (int b = 0; b < blocks; b++)
        {
            int start = b * blockBytes;
            ushort Scale() => unitScales ? (ushort)0x3C00 : HalfConversion.FromSingle((random.NextSingle() - 0.3f) * 0.01f);
            switch (type)
            {
                case GgmlType.Q8_0 or GgmlType.Q4_0:
                    BitConverter.TryWriteBytes(row.AsSpan(start), Scale());
                    break;
                case GgmlType.Q4_K:
                    BitConverter.TryWriteBytes(row.AsSpan(start), Scale());
                    BitConverter.TryWriteBytes(row.AsSpan(start + 2), Scale());
                    break;
                case GgmlType.Q6_K:
                    BitConverter.TryWriteBytes(row.AsSpan(start + Q6_K.ScaleOffset), Scale());
                    break;
            }
        }
        return row;
    }

    private static byte[] ActivationBuffer(GgmlType type, int columns, Random random, bool unitScales)
    {
        bool k = type is GgmlType.Q4_K or GgmlType.Q6_K;
        var buffer = new byte[(int)(k ? Q8KActivations.RowBytes(columns) : Q8Activations.RowBytes(columns)) + 64];
        fixed (byte* p = buffer)
        {
            if (k)
            {
                var row = Q8KActivations.Row(p, columns, 0);
                for (int i = 0; i < columns; i++) row.Quants[i] = (sbyte)(unitScales ? random.Next(-7, 8) : random.Next(-127, 128));
                for (int g = 0; g < columns / 16; g++)
                {
                    int sum = 0;
                    for (int i = 0; i < 16; i++) sum += row.Quants[g * 16 + i];
                    row.Sums[g] = (short)sum;
                }
                for (int b = 0; b < columns / 256; b++) row.Scales[b] = unitScales ? 1f : random.NextSingle() * 0.02f;
            }
            else
            {
                var row = Q8Activations.Row(p, columns, 0);
                for (int i = 0; i < columns; i++) row.Quants[i] = (sbyte)(unitScales ? random.Next(-7, 8) : random.Next(-127, 128));
                for (int b = 0; b < columns / 32; b++)
                {
                    row.Scales[b] = unitScales ? 1f : random.NextSingle() * 0.02f;
                    for (int lane = 0; lane < 8; lane++)
                    {
                        sbyte* q = row.Quants + b * 32 + 4 * lane;
                        row.NibbleOffsets[b * 8 + lane] = 8 * (q[0] + q[1] + q[2] + q[3]);
                    }
                }
                Q8Activations.Derive(row, columns);
            }
        }
        return buffer;
    }

    private static float Dot(GgmlType type, KernelIsa isa, byte* weight, byte* activations, int columns)
    {
        if (type is GgmlType.Q4_K or GgmlType.Q6_K)
            return DotKernels.Q8K(type, isa)(weight, Q8KActivations.Row(activations, columns, 0), columns / 256);
        return DotKernels.Q8(type, isa)(weight, Q8Activations.Row(activations, columns, 0), columns / 32);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 257)]
    [InlineData(GgmlType.Q4_0, 257)]
    [InlineData(GgmlType.Q4_K, 40)]
    [InlineData(GgmlType.Q6_K, 40)]
    public void QuantizedKernelsEqualScalarAtEverySize(GgmlType type, int maxBlocks)
    {
        var random = new Random((int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        foreach (bool unit in new[] { true, false })
            for (int blocks = 0; blocks <= maxBlocks; blocks++)
            {
                int columns = blocks * blockSize;
                byte[] weight = RandomRow(type, blocks, random, unit);
                byte[] activations = ActivationBuffer(type, columns, random, unit);
                fixed (byte* w = weight)
                fixed (byte* a = activations)
                {
                    float expected = Dot(type, KernelIsa.Scalar, w, a, columns);
                    foreach (KernelIsa isa in SimdLevels())
                    {
                        float actual = Dot(type, isa, w, a, columns);
                        // Q8_0 and Q4_0 kernels share the scalar reference's float arithmetic (BlockGroups).
                        if (unit || type is GgmlType.Q8_0 or GgmlType.Q4_0) Assert.True(expected == actual, $"{type} {isa} {blocks} blocks: {actual} != {expected}");
                        else Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)) + 1e-6 * blocks,
                            $"{type} {isa} {blocks} blocks: {actual} vs {expected}");
                    }
                }
            }
    }

    /// <summary>
    /// Rows whose scales include infinity, NaN or a subnormal (in a full group of eight blocks and in the
    /// tail) give the scalar reference's bits at every level: the SIMD scale conversion hands such rows
    /// back to the reference.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void SpecialScalesGiveTheReferenceBits(GgmlType type)
    {
        var random = new Random(31 + (int)type);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        foreach (ushort special in new ushort[] { 0x7C00, 0xFC00, 0x7E01, 0x0001, 0x8003 })
            foreach (int blocks in new[] { 8, 16, 19 })
                foreach (int at in new[] { 3, blocks - 1 })
                {
                    int columns = blocks * 32;
                    byte[] weight = RandomRow(type, blocks, random, unitScales: false);
                    BitConverter.TryWriteBytes(weight.AsSpan(at * blockBytes), special);
                    byte[] activations = ActivationBuffer(type, columns, random, unitScales: false);
                    fixed (byte* w = weight)
                    fixed (byte* a = activations)
                    {
                        float expected = Dot(type, KernelIsa.Scalar, w, a, columns);
                        foreach (KernelIsa isa in SimdLevels())
                        {
                            float actual = Dot(type, isa, w, a, columns);
                            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                                $"{type} {isa} scale 0x{special:X4} at block {at} of {blocks}: {actual} != {expected}");
                        }
                    }
                }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void FloatKernelsMatchScalarAtEverySize(GgmlType type)
    {
        var random = new Random(11);
        for (int count = 0; count <= 257; count++)
        {
            var x = new float[count];
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                x[i] = random.NextSingle() * 2 - 1;
                values[i] = random.NextSingle() * 2 - 1;
            }
            var stored = new byte[count * GgmlTypeInfo.BlockBytes(type) + 16];
            Quantizer.QuantizeRow(type, values, stored);
            var widened = new float[count];
            Quantizer.DequantizeRow(type, stored, widened);
            double magnitude = 0;
            for (int i = 0; i < count; i++) magnitude += Math.Abs((double)x[i] * widened[i]);
            fixed (float* px = x)
            fixed (byte* w = stored)
            {
                float expected = DotKernels.Float(type, KernelIsa.Scalar)(px, w, count);
                foreach (KernelIsa isa in SimdLevels())
                {
                    float actual = DotKernels.Float(type, isa)(px, w, count);
                    Assert.True(Math.Abs(actual - expected) <= 1e-6 * magnitude + 1e-30, $"{type} {isa} n={count}: {actual} vs {expected}");
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, 12)]
    [InlineData(GgmlType.Q6_K, 12)]
    public void FourTokenKernelsEqualTheSingleTokenKernelBitForBit(GgmlType type, int maxBlocks)
    {
        foreach (KernelIsa isa in new[] { KernelIsa.Avx2, KernelIsa.AvxVnni })
            if (KernelIsaInfo.IsSupported(isa)) FourTokenKernelEqualsTheSingleTokenKernel(type, maxBlocks, isa);
    }

    /// <summary>The four-token kernel of <paramref name="isa"/> against the one-token AVX2 kernel: the same bits.</summary>
    private static void FourTokenKernelEqualsTheSingleTokenKernel(GgmlType type, int maxBlocks, KernelIsa isa)
    {
        var random = new Random(100 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        Q8KRow* kRows = stackalloc Q8KRow[4];
        for (int blocks = 0; blocks <= maxBlocks; blocks++)
        {
            int columns = blocks * blockSize;
            byte[] weight = RandomRow(type, blocks, random, unitScales: false);
            var tokens = Enumerable.Range(0, 4).Select(_ => ActivationBuffer(type, columns, random, unitScales: false)).ToArray();
            var results = new float[4];
            fixed (byte* w = weight)
            fixed (byte* t0 = tokens[0]) fixed (byte* t1 = tokens[1]) fixed (byte* t2 = tokens[2]) fixed (byte* t3 = tokens[3])
            fixed (float* r = results)
            {
                byte*[] buffers = { t0, t1, t2, t3 };
                for (int i = 0; i < 4; i++) kRows[i] = Q8KActivations.Row(buffers[i], columns, 0);
                DotKernels.Q8KTokens4(type, isa)(w, kRows, blocks, r);
                for (int i = 0; i < 4; i++)
                    Assert.True(Dot(type, KernelIsa.Avx2, w, buffers[i], columns) == results[i], $"{type} {isa} {blocks} blocks token {i}");
            }
        }
    }

    /// <summary>
    /// The few-token Q8_0/Q4_0 kernels of every level, scalar included, forced on: at every block count 0..257 and with
    /// 1..16 tokens (the count cycles with the size), and with infinite, NaN and subnormal scales, each token's result
    /// has exactly the bits of the one-token kernel for that token alone (every level's one-token kernel gives the
    /// scalar reference's bits, <see cref="QuantizedKernelsEqualScalarAtEverySize"/>).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void FewTokenKernelsEqualTheOneTokenKernelBitForBit(GgmlType type)
    {
        var random = new Random(500 + (int)type);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        var levels = Enum.GetValues<KernelIsa>().Where(KernelIsaInfo.IsSupported).ToArray();
        for (int blocks = 0; blocks <= 257; blocks++)
        {
            int count = blocks % FewTokens.MaxTokens + 1;
            // Two rows back to back, the second with a special scale every fifth size.
            byte[] weight = RandomRow(type, 2 * blocks, random, unitScales: blocks % 3 == 0);
            if (blocks % 5 == 4) BitConverter.TryWriteBytes(weight.AsSpan((blocks + random.Next(blocks)) * blockBytes), new ushort[] { 0x7C00, 0xFC00, 0x7E01, 0x0001 }[blocks / 5 % 4]);
            FewTokenKernelsEqualTheOneTokenKernel(type, weight, blocks, count, levels, random);
        }
        FewTokenKernelsEqualTheOneTokenKernel(type, RandomRow(type, 2 * 64, random, unitScales: false), 64, FewTokens.MaxTokens, levels, random);
    }

    private static void FewTokenKernelsEqualTheOneTokenKernel(GgmlType type, byte[] weight, int blocks, int count, KernelIsa[] levels, Random random)
    {
        int columns = blocks * 32;
        int stride = (int)Q8Activations.RowBytes(columns);
        var buffer = new byte[stride * count + 64];
        for (int t = 0; t < count; t++)
            ActivationBuffer(type, columns, random, unitScales: blocks % 3 == 0).AsSpan(0, stride).CopyTo(buffer.AsSpan(t * stride));
        Q8Row* rows = stackalloc Q8Row[FewTokens.MaxTokens];
        float* results = stackalloc float[2 * FewTokens.MaxTokens];
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        fixed (byte* w = weight)
        fixed (byte* a = buffer)
        {
            for (int t = 0; t < count; t++) rows[t] = Q8Activations.Row(a, columns, t);
            foreach (KernelIsa isa in levels)
            {
                DotKernels.Q8Tokens(type, isa)(w, rowBytes, 2, rows, count, blocks, results);
                for (int row = 0; row < 2; row++)
                    for (int t = 0; t < count; t++)
                    {
                        float alone = Dot(type, KernelIsa.Scalar, w + row * rowBytes, a + t * stride, columns), actual = results[row * count + t];
                        Assert.True(BitConverter.SingleToInt32Bits(alone) == BitConverter.SingleToInt32Bits(actual),
                            $"{type} {isa} {blocks} blocks, row {row}, token {t} of {count}: {actual} != {alone}");
                    }
            }
        }
    }

    /// <summary>
    /// The many-row one-token kernels of every SIMD level give every row exactly the bits of the one-row kernel, and so
    /// of the scalar reference: at every block count 0..257 with 1..9 rows, and with infinite, NaN and subnormal scales
    /// in some rows.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void ManyRowKernelsEqualTheOneRowKernelBitForBit(GgmlType type)
    {
        var random = new Random(700 + (int)type);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        var levels = SimdLevels().ToArray();
        Assert.True(DotKernels.Q8Rows(type, KernelIsa.Scalar) == null, "the scalar level runs the one-row reference row by row");
        float* results = stackalloc float[9];
        for (int blocks = 0; blocks <= 257; blocks++)
        {
            int rows = blocks % 9 + 1, columns = blocks * 32;
            long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
            byte[] weight = RandomRow(type, rows * blocks, random, unitScales: blocks % 3 == 0);
            if (blocks % 5 == 4) BitConverter.TryWriteBytes(weight.AsSpan(random.Next(rows * blocks) * blockBytes), new ushort[] { 0x7C00, 0xFC00, 0x7E01, 0x0001 }[blocks / 5 % 4]);
            byte[] activations = ActivationBuffer(type, columns, random, unitScales: blocks % 3 == 0);
            fixed (byte* w = weight)
            fixed (byte* a = activations)
                foreach (KernelIsa isa in levels)
                {
                    DotKernels.Q8Rows(type, isa)(w, rowBytes, rows, Q8Activations.Row(a, columns, 0), blocks, results);
                    for (int r = 0; r < rows; r++)
                    {
                        float alone = Dot(type, KernelIsa.Scalar, w + r * rowBytes, a, columns);
                        Assert.True(BitConverter.SingleToInt32Bits(alone) == BitConverter.SingleToInt32Bits(results[r]),
                            $"{type} {isa} {blocks} blocks, row {r} of {rows}: {results[r]} != {alone}");
                    }
                }
        }
    }

    /// <summary>
    /// The Q8_0/Q4_0 GEMM tile kernels of every level (two and four rows; 8 or 16 token lanes) equal their scalar
    /// references bit for bit for every row and lane, at every block count 0..70 and with 1..width tokens present
    /// (padded lanes must give zero), and agree with the single-token kernel to float rounding.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void TileKernelsEqualTheirReference(GgmlType type)
    {
        foreach (KernelIsa isa in SimdLevels()) TileKernelsOfLevelEqualTheirReference(type, isa);
    }

    private static void TileKernelsOfLevelEqualTheirReference(GgmlType type, KernelIsa isa)
    {
        var random = new Random(77 + (int)type);
        var kernels = DotKernels.Q8Tiles(type, isa);
        Assert.True(kernels.Exist);
        int width = kernels.Width;
        var results = new float[2 * width];
        var results4 = new float[4 * width];
        var expected = new float[width];
        for (int blocks = 0; blocks <= 70; blocks++)
        {
            int columns = blocks * 32, present = blocks % width + 1;
            int stride = (int)Q8Activations.RowBytes(columns);
            // Four rows back to back, for the four-row kernel; the two-row kernel takes rows 0 and 1.
            int rowBytes = (int)GgmlTypeInfo.ByteCount(type, columns);
            var four = new byte[rowBytes * 4 + 64];
            for (int row = 0; row < 4; row++) RandomRow(type, blocks, random, unitScales: false).AsSpan(0, rowBytes).CopyTo(four.AsSpan(row * rowBytes));
            var rows = new byte[stride * width + 64];
            for (int k = 0; k < present; k++)
                ActivationBuffer(type, columns, random, unitScales: false).AsSpan(0, stride).CopyTo(rows.AsSpan(k * stride));
            var tile = new byte[(int)Q8Tiles.TileBytes(columns, width) + 64];
            fixed (byte* w0 = four)
            fixed (byte* a = rows) fixed (byte* t = tile)
            fixed (float* r = results) fixed (float* r4 = results4) fixed (float* e = expected)
            {
                Q8Tiles.Build(a, columns, 0, present, t, width);
                kernels.Rows2(w0, w0 + rowBytes, t, blocks, r);
                kernels.Rows4(w0, rowBytes, t, blocks, r4);
                byte*[] weights = { w0, w0 + rowBytes, w0 + 2 * rowBytes, w0 + 3 * rowBytes };
                for (int row = 0; row < 4; row++)
                {
                    if (type == GgmlType.Q4_0) DotQ4_0Tiles.Reference(weights[row], t, blocks, e, width);
                    else DotQ8_0Tiles.Reference(weights[row], t, blocks, e, width);
                    for (int k = 0; k < width; k++)
                    {
                        if (row < 2) Assert.True(expected[k] == results[row * width + k], $"{type} {isa} two rows: {blocks} blocks row {row} lane {k}");
                        Assert.True(expected[k] == results4[row * width + k], $"{type} {isa} four rows: {blocks} blocks row {row} lane {k}");
                        float alone = k < present ? Dot(type, KernelIsa.Scalar, weights[row], a + k * stride, columns) : 0;
                        Assert.True(Math.Abs(alone - expected[k]) <= 1e-5 * Math.Max(1, Math.Abs(alone)), $"{blocks} blocks lane {k}: {expected[k]} vs {alone}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void FourRowFloatKernelsEqualTheOneRowKernelBitForBit(GgmlType type)
    {
        if (!KernelIsaInfo.IsSupported(KernelIsa.Avx512)) return;
        var random = new Random(5);
        const int outputStride = 7;
        var y = new float[4 * outputStride];
        var single = new float[4];
        for (int count = 0; count <= 130; count++)
        {
            int xStride = count + 3;
            var x = new float[4 * xStride];
            for (int i = 0; i < x.Length; i++) x[i] = random.NextSingle() * 2 - 1;
            long rowBytes = (long)count * GgmlTypeInfo.BlockBytes(type) + 8;
            var stored = new byte[4 * rowBytes];
            for (int r = 0; r < 4; r++)
            {
                var values = new float[count];
                for (int i = 0; i < count; i++) values[i] = (random.NextSingle() * 2 - 1) * (r + 1);
                Quantizer.QuantizeRow(type, values, stored.AsSpan((int)(r * rowBytes)));
            }
            fixed (float* px = x)
            fixed (byte* w = stored)
            fixed (float* py = y)
            fixed (float* ps = single)
            {
                Array.Fill(y, float.NaN);
                DotKernels.FloatRows4Tokens4(type, KernelIsa.Avx512)(px, xStride, w, rowBytes, count, py, outputStride);
                for (int k = 0; k < 4; k++)
                {
                    DotKernels.FloatRows4Token1(type, KernelIsa.Avx512)(px + k * xStride, w, rowBytes, count, ps);
                    for (int r = 0; r < 4; r++)
                    {
                        float expected = DotKernels.Float(type, KernelIsa.Avx512)(px + k * xStride, w + r * rowBytes, count);
                        Assert.Equal(expected, y[k * outputStride + r]);
                        Assert.Equal(expected, single[r]);
                    }
                    // Only the four rows of each token's output run are written.
                    for (int r = 4; r < outputStride && k * outputStride + r < y.Length; r++) Assert.True(float.IsNaN(y[k * outputStride + r]));
                }
            }
        }
    }
}
