using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The tensor-core prefill on ILGPU's CPU accelerator: the mma.sync emulation against a plain integer product with the
/// fragments dealt out by the PTX ISA's m16n8k32 .s8 table (written here from the ISA text, apart from the emulation's
/// own reading of it), and the kernel's products against today's tile kernel, bit for bit, for ragged shapes.
/// </summary>
public sealed class TensorCorePrefillTests(CpuAcceleratorFixture fixture) : IClassFixture<CpuAcceleratorFixture>
{
    private Accelerator Accelerator => fixture.Device.Accelerator;

    /// <summary>
    /// Two warps of one group, each with its own A (16 × 32), B (32 × 8) and C (16 × 8): lane l gets the registers the ISA
    /// gives it, the emulation runs, and D's registers, placed back by the ISA's C/D table, must equal A·B + C.
    /// </summary>
    [Fact]
    public void EmulationComputesTheIsaProductFromTheIsaFragments()
    {
        const int warps = 2;
        var random = new Random(24);
        var a = new int[warps, 16, 32];
        var b = new int[warps, 32, 8];
        var c = new int[warps, 16, 8];
        foreach (var (m, range) in new (int[,,], int)[] { (a, 128), (b, 128), (c, 1 << 20) })
            for (int w = 0; w < warps; w++)
                for (int i = 0; i < m.GetLength(1); i++)
                    for (int j = 0; j < m.GetLength(2); j++)
                        m[w, i, j] = random.Next(-range, range);
        // Registers per lane: a0..a3, b0, b1, c0..c3, in one row of 10 ints.
        var registers = new int[warps * 32 * 10];
        for (int w = 0; w < warps; w++)
            for (int lane = 0; lane < 32; lane++)
            {
                int groupId = lane >> 2, threadInGroup = lane % 4, at = (w * 32 + lane) * 10;
                for (int i = 0; i < 16; i++)
                {
                    // ISA: row = groupID for a_i, 0 ≤ i < 4 or 8 ≤ i < 12, else groupID + 8; col = threadID_in_group·4 + (i & 3), + 16 for i ≥ 8.
                    int row = (i < 4 || (i >= 8 && i < 12)) ? groupId : groupId + 8;
                    int col = i < 8 ? threadInGroup * 4 + (i & 3) : threadInGroup * 4 + (i & 3) + 16;
                    registers[at + i / 4] |= (a[w, row, col] & 0xFF) << (8 * (i % 4));
                }
                for (int i = 0; i < 8; i++)
                {
                    // ISA: row = threadID_in_group·4 + (i & 3) for b_i, + 16 for i ≥ 4; col = groupID.
                    int row = i < 4 ? threadInGroup * 4 + (i & 3) : threadInGroup * 4 + (i & 3) + 16;
                    registers[at + 4 + i / 4] |= (b[w, row, groupId] & 0xFF) << (8 * (i % 4));
                }
                for (int i = 0; i < 4; i++) registers[at + 6 + i] = c[w, CdRow(lane, i), CdColumn(lane, i)];
            }
        using var input = Accelerator.Allocate1D(registers);
        using var output = Accelerator.Allocate1D<int>(warps * 32 * 4);
        var kernel = Accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>>(TensorCoreTestKernels.Multiply);
        kernel(new KernelConfig(1, warps * 32), input.View, output.View);
        Accelerator.Synchronize();
        var d = output.GetAsArray1D();
        for (int w = 0; w < warps; w++)
            for (int lane = 0; lane < 32; lane++)
                for (int i = 0; i < 4; i++)
                {
                    int row = CdRow(lane, i), col = CdColumn(lane, i), expected = c[w, row, col];
                    for (int k = 0; k < 32; k++) expected += a[w, row, k] * b[w, k, col];
                    Assert.True(expected == d[(w * 32 + lane) * 4 + i], $"warp {w} lane {lane} d{i} (row {row}, column {col})");
                }
    }

    // ISA, C/D: row = groupID for c_i, i < 2, else groupID + 8; col = threadID_in_group·2 + (i & 1).
    private static int CdRow(int lane, int i) => i < 2 ? lane >> 2 : (lane >> 2) + 8;
    private static int CdColumn(int lane, int i) => (lane % 4) * 2 + (i & 1);

    /// <summary>
    /// Both formats, shapes that are not multiples of the 16 × 16 warp tile nor of the eight chains (1 to 17 blocks), and
    /// an accumulating product into a wider output: every output's bits equal the tile kernel's.
    /// </summary>
    [Theory]
    [InlineData(true, 37, 9, 3, false)]
    [InlineData(false, 37, 9, 3, false)]
    [InlineData(true, 16, 16, 8, false)]
    [InlineData(false, 50, 23, 11, true)]
    [InlineData(true, 1, 33, 17, true)]
    [InlineData(false, 70, 12, 1, false)]
    [InlineData(true, 9, 40, 9, false)]
    public void ProductsEqualTheTileKernelBitForBit(bool q8, int rows, int tokens, int blocks, bool accumulate)
    {
        var random = new Random(rows * 1000 + tokens * 10 + blocks);
        var weightLevels = new int[rows * blocks * (q8 ? 8 : 4)];
        for (int i = 0; i < weightLevels.Length; i++) weightLevels[i] = q8 ? PackedLevels(random) : random.Next(int.MinValue, int.MaxValue);
        var weightScales = new ushort[rows * blocks];
        for (int i = 0; i < weightScales.Length; i++) weightScales[i] = BitConverter.HalfToUInt16Bits((System.Half)((random.NextDouble() - 0.5) * 0.1));
        var activationLevels = new int[tokens * blocks * 8];
        for (int i = 0; i < activationLevels.Length; i++) activationLevels[i] = PackedLevels(random);
        var activationScales = new float[tokens * blocks];
        for (int i = 0; i < activationScales.Length; i++) activationScales[i] = (float)(random.NextDouble() * 0.05);
        int stride = accumulate ? rows + 5 : rows, offset = accumulate ? 3 : 0;
        var start = new float[tokens * stride];
        for (int i = 0; i < start.Length; i++) start[i] = (float)(random.NextDouble() * 4 - 2);
        var shape = new MatrixShape { Tokens = tokens, Rows = rows, Columns = blocks * 32, OutputStride = stride, OutputOffset = offset, Accumulate = accumulate ? 1 : 0 };

        using var levels = Accelerator.Allocate1D(weightLevels);
        using var scales = Accelerator.Allocate1D(weightScales);
        using var xLevels = Accelerator.Allocate1D(activationLevels);
        using var xScales = Accelerator.Allocate1D(activationScales);
        using var tileOutput = Accelerator.Allocate1D(start);
        using var tensorOutput = Accelerator.Allocate1D(start);
        if (q8) Compare(new Q8Rows(levels.View, scales.View, blocks));
        else Compare(new Q4Rows(levels.View, scales.View, blocks));

        void Compare<TWeights>(TWeights weights) where TWeights : struct, IQuantizedRows
        {
            var tile = Accelerator.LoadStreamKernel<TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>>(QuantizedMatrixKernels.MatrixMatrix);
            var tileShape = shape;
            tileShape.Tile = (int)Math.Sqrt(Accelerator.MaxNumThreadsPerGroup);
            int tiles = (rows + tileShape.Tile - 1) / tileShape.Tile * ((tokens + tileShape.Tile - 1) / tileShape.Tile);
            tile(new KernelConfig(tiles, tileShape.Tile * tileShape.Tile), weights, xLevels.View, xScales.View, tileShape, tileOutput.View);
            var tensorCores = TensorCorePrefill<TWeights>.TryOpen(Accelerator, new LaunchCounter());
            Assert.NotNull(tensorCores);
            tensorCores.Run(weights, xLevels.View, xScales.View, shape, tensorOutput.View);
            Accelerator.Synchronize();
        }
        var expected = tileOutput.GetAsArray1D();
        var actual = tensorOutput.GetAsArray1D();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"token {i / stride}, column {i % stride}: tile kernel {expected[i]:R}, tensor cores {actual[i]:R}");
        // Outputs outside [offset, offset + rows) keep their start value; inside, the products were written (a kernel that
        // wrote nothing would otherwise pass).
        int changed = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            bool inside = i % stride >= offset && i % stride < offset + rows;
            if (!inside) Assert.Equal(start[i], actual[i]);
            else if (actual[i] != start[i]) changed++;
        }
        Assert.True(changed > rows * tokens * 9 / 10, $"only {changed} of {rows * tokens} outputs written");
    }

    /// <summary>Four Q8_0 levels in [−127, 127], packed as the device arrays hold them.</summary>
    private static int PackedLevels(Random random)
    {
        int packed = 0;
        for (int i = 0; i < 4; i++) packed |= (random.Next(-127, 128) & 0xFF) << (8 * i);
        return packed;
    }

    /// <summary>The kernel's int-to-float by a magic number against .NET's conversion, over every possible block sum and beyond.</summary>
    [Fact]
    public void ExactSingleConvertsEveryBlockSum()
    {
        for (int term = -(1 << 22); term < 1 << 22; term++)
            if (QuantizedTensorCoreKernels.ExactSingle(term) != term) Assert.Fail($"{term} became {QuantizedTensorCoreKernels.ExactSingle(term):R}");
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData(" 1 ", true)]
    [InlineData("0", false)]
    public void TheSwitchReadsZeroAsOff(string? value, bool enabled) => Assert.Equal(enabled, TensorCorePrefill.IsEnabled(value));

    [Fact]
    public void ABadSwitchValueIsNamedInTheError()
    {
        var error = Assert.Throws<ArgumentException>(() => TensorCorePrefill.IsEnabled("yes"));
        Assert.Contains(TensorCorePrefill.Variable, error.Message);
        Assert.Contains("yes", error.Message);
    }
}

/// <summary>A kernel for the emulation test (public: the CPU accelerator calls it from its own assembly).</summary>
public static class TensorCoreTestKernels
{
    /// <summary>Each thread: its 10 registers in, MultiplyAccumulate, its 4 D registers out.</summary>
    public static void Multiply(ArrayView<int> registers, ArrayView<int> d)
    {
        var scratch = SharedMemory.Allocate<int>(2 * TensorCoreMultiply.ScratchPerWarp);
        int thread = Group.IdxX, at = thread * 10;
        var warpScratch = scratch.SubView(thread / 32 * TensorCoreMultiply.ScratchPerWarp, TensorCoreMultiply.ScratchPerWarp);
        var c = new Int4 { X = registers[at + 6], Y = registers[at + 7], Z = registers[at + 8], W = registers[at + 9] };
        var result = TensorCoreMultiply.MultiplyAccumulate(registers[at], registers[at + 1], registers[at + 2], registers[at + 3],
            registers[at + 4], registers[at + 5], c, warpScratch);
        d[thread * 4] = result.X;
        d[thread * 4 + 1] = result.Y;
        d[thread * 4 + 2] = result.Z;
        d[thread * 4 + 3] = result.W;
    }
}
