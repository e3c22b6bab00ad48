using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The f16/bf16 tensor-core prefill on ILGPU's CPU accelerator: the m16n8k16 emulation against a plain product with the
/// fragments dealt out by the PTX ISA's table (written here from the ISA text, apart from the emulation's own reading of
/// it), the activation split's representation error on an identity product (f16 rows far outside f16's range included),
/// whole products against a double-precision product, and a token's bits against the same token in another batch.
/// </summary>
public sealed class HalfTensorCorePrefillTests(CpuAcceleratorFixture fixture) : IClassFixture<CpuAcceleratorFixture>
{
    private Accelerator Accelerator => fixture.Device.Accelerator;

    /// <summary>
    /// Two warps of one group, each with its own A (16 × 16), B (16 × 8) of the format and C (16 × 8) of f32: lane l gets
    /// the registers the ISA gives it, the emulation runs, and D's registers, placed back by the ISA's C/D table, must equal
    /// A·B + C up to the rounding of 16 f32 additions (the ISA leaves their order open).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EmulationComputesTheIsaProductFromTheIsaFragments(bool f16)
    {
        const int warps = 2;
        var random = new Random(f16 ? 16 : 1016);
        var a = new uint[warps, 16, 16];
        var b = new uint[warps, 16, 8];
        var c = new float[warps, 16, 8];
        for (int w = 0; w < warps; w++)
        {
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 16; j++) a[w, i, j] = RandomBits(random, f16);
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 8; j++) b[w, i, j] = RandomBits(random, f16);
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 8; j++) c[w, i, j] = (float)(random.NextDouble() * 8 - 4);
        }
        // Registers per lane: a0..a3, b0, b1 (pairs, element i in the low half for even i), then c0..c3 as float bits.
        var registers = new uint[warps * 32 * 10];
        for (int w = 0; w < warps; w++)
            for (int lane = 0; lane < 32; lane++)
            {
                int groupId = lane >> 2, threadInGroup = lane % 4, at = (w * 32 + lane) * 10;
                for (int i = 0; i < 8; i++)
                {
                    // ISA: row = groupID for a_i with 0 ≤ i < 2 or 4 ≤ i < 6, else groupID + 8; col = threadID_in_group·2 + (i & 1), + 8 for i ≥ 4.
                    int row = (i < 2 || (i >= 4 && i < 6)) ? groupId : groupId + 8;
                    int col = i < 4 ? threadInGroup * 2 + (i & 1) : threadInGroup * 2 + (i & 1) + 8;
                    registers[at + i / 2] |= a[w, row, col] << (16 * (i % 2));
                }
                for (int i = 0; i < 4; i++)
                {
                    // ISA: row = threadID_in_group·2 + (i & 1) for b_i, + 8 for i ≥ 2; col = groupID.
                    int row = i < 2 ? threadInGroup * 2 + (i & 1) : threadInGroup * 2 + (i & 1) + 8;
                    registers[at + 4 + i / 2] |= b[w, row, groupId] << (16 * (i % 2));
                }
                for (int i = 0; i < 4; i++) registers[at + 6 + i] = BitConverter.SingleToUInt32Bits(c[w, CdRow(lane, i), CdColumn(lane, i)]);
            }
        using var input = Accelerator.Allocate1D(registers);
        using var output = Accelerator.Allocate1D<float>(warps * 32 * 4);
        var kernel = Accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<float>>(f16 ? HalfTensorCoreTestKernels.MultiplyF16 : HalfTensorCoreTestKernels.MultiplyBF16);
        kernel(new KernelConfig(1, warps * 32), input.View, output.View);
        Accelerator.Synchronize();
        var d = output.GetAsArray1D();
        for (int w = 0; w < warps; w++)
            for (int lane = 0; lane < 32; lane++)
                for (int i = 0; i < 4; i++)
                {
                    int row = CdRow(lane, i), col = CdColumn(lane, i);
                    double expected = c[w, row, col], magnitude = Math.Abs(expected);
                    for (int k = 0; k < 16; k++)
                    {
                        double product = Widen(a[w, row, k], f16) * Widen(b[w, k, col], f16);
                        expected += product;
                        magnitude += Math.Abs(product);
                    }
                    double actual = d[(w * 32 + lane) * 4 + i];
                    Assert.True(Math.Abs(actual - expected) <= 16 * Math.Pow(2, -24) * magnitude,
                        $"warp {w} lane {lane} d{i} (row {row}, column {col}): {actual:R}, expected {expected:R}");
                }
    }

    // ISA, C/D: row = groupID for c_i, i < 2, else groupID + 8; col = threadID_in_group·2 + (i & 1).
    private static int CdRow(int lane, int i) => i < 2 ? lane >> 2 : (lane >> 2) + 8;
    private static int CdColumn(int lane, int i) => (lane % 4) * 2 + (i & 1);

    /// <summary>
    /// W with a single 1 in each row (row r picks column r), so y[t, r] is x[t, r] as the parts carry it: bf16's three
    /// parts give every bit back down to 2^-110 (below it the last part is a subnormal, within 2^-134); f16's two parts
    /// within 2^-22·|x| + 2^-25/s, s the row's power-of-two scale (row maxima from 1e-30 to 1e6, past f16's 65504, values
    /// down to 2^-24 of their row's largest, and a row of zeros).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnIdentityProductReturnsTheActivationsWithinTheSplitsBound(bool f16)
    {
        const int rows = 64, columns = 64, tokens = 12;
        var random = new Random(64);
        var weights = new float[rows * columns];
        for (int r = 0; r < rows; r++) weights[r * columns + r] = 1;
        double[] rowMaxima = [1e6, 3e5, 65504, 70000, 1, 1e-3, 1e-30, 0, 7.5, 2e4, 1e-5, 123456];
        var x = new float[tokens * columns];
        for (int t = 0; t < tokens; t++)
            for (int c = 0; c < columns; c++)
            {
                // Magnitudes spread over 2^-24..1 of the row's maximum, with random signs and mantissa bits.
                double spread = c == 5 ? 1 : Math.Pow(2, -24 * random.NextDouble());
                x[t * columns + c] = (float)(rowMaxima[t] * spread * (random.Next(2) == 0 ? -1 : 1));
            }
        var y = Run(f16, weights, rows, columns, x, tokens, stride: rows, offset: 0, accumulate: false, start: new float[tokens * rows]);
        for (int t = 0; t < tokens; t++)
        {
            double inverseScale = InverseScale(x, t, columns);
            for (int r = 0; r < rows; r++)
            {
                double expected = x[t * columns + r], actual = y[t * rows + r];
                double bound = f16 ? Math.Pow(2, -22) * Math.Abs(expected) + Math.Pow(2, -25) * inverseScale
                    : Math.Abs(expected) >= Math.Pow(2, -110) ? 0 : Math.Pow(2, -134);
                Assert.True(Math.Abs(actual - expected) <= bound, $"token {t} (row maximum {rowMaxima[t]:R}) column {r}: {actual:R}, expected {expected:R}");
            }
        }
    }

    /// <summary>
    /// Shapes that are not multiples of the 16 × 16 warp tile nor of 64 columns, and an accumulating product into a wider
    /// output: every output within the documented bound of a double-precision product, and outputs outside the written
    /// columns untouched.
    /// </summary>
    [Theory]
    [InlineData(true, 37, 9, 96, false)]
    [InlineData(false, 37, 9, 96, false)]
    [InlineData(true, 16, 16, 32, false)]
    [InlineData(false, 50, 23, 352, true)]
    [InlineData(true, 1, 33, 544, true)]
    [InlineData(false, 70, 12, 32, false)]
    [InlineData(true, 9, 40, 288, false)]
    public void ProductsMatchADoublePrecisionProduct(bool f16, int rows, int tokens, int columns, bool accumulate)
    {
        var random = new Random(rows * 1000 + tokens * 10 + columns);
        var weights = new float[rows * columns];
        for (int i = 0; i < weights.Length; i++) weights[i] = Widen(RandomBits(random, f16), f16);
        var x = new float[tokens * columns];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-8, 8)));
        int stride = accumulate ? rows + 5 : rows, offset = accumulate ? 3 : 0, parts = f16 ? 2 : 3;
        var start = new float[tokens * stride];
        for (int i = 0; i < start.Length; i++) start[i] = (float)(random.NextDouble() * 4 - 2);
        var y = Run(f16, weights, rows, columns, x, tokens, stride, offset, accumulate, start);
        for (int t = 0; t < tokens; t++)
            for (int column = 0; column < stride; column++)
            {
                int r = column - offset;
                float actual = y[t * stride + column];
                if (r < 0 || r >= rows)
                {
                    Assert.Equal(start[t * stride + column], actual);
                    continue;
                }
                double expected = accumulate ? start[t * stride + column] : 0, magnitude = 0, weightSum = 0;
                for (int c = 0; c < columns; c++)
                {
                    expected += (double)weights[r * columns + c] * x[t * columns + c];
                    magnitude += Math.Abs((double)weights[r * columns + c] * x[t * columns + c]);
                    weightSum += Math.Abs(weights[r * columns + c]);
                }
                // Representation (f16: 2^-22·|x| + 2^-25/s per activation), parts·columns f32 additions, the final add.
                double represented = f16 ? Math.Pow(2, -22) * magnitude + Math.Pow(2, -25) * InverseScale(x, t, columns) * weightSum : 0;
                double bound = represented + (parts * columns + 1) * Math.Pow(2, -24) * (magnitude + Math.Abs(expected));
                Assert.True(Math.Abs(actual - expected) <= bound, $"token {t}, row {r}: {actual:R}, expected {expected:R} (bound {bound:E2})");
            }
    }

    /// <summary>A token's outputs are the same bits in a 40-token prefill, in the last 27 of it, and in a 9-token one (the smallest prefill).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ATokensOutputsDoNotDependOnItsBatch(bool f16)
    {
        const int rows = 40, columns = 96, tokens = 40;
        var random = new Random(40);
        var weights = new float[rows * columns];
        for (int i = 0; i < weights.Length; i++) weights[i] = Widen(RandomBits(random, f16), f16);
        var x = new float[tokens * columns];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-6, 10)));
        var whole = Run(f16, weights, rows, columns, x, tokens, rows, 0, false, new float[tokens * rows]);
        foreach (var (first, count) in new[] { (13, 27), (20, 9), (31, 9) })
        {
            var part = Run(f16, weights, rows, columns, x.AsSpan(first * columns, count * columns).ToArray(), count, rows, 0, false, new float[count * rows]);
            for (int i = 0; i < count * rows; i++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[first * rows + i]) == BitConverter.SingleToInt32Bits(part[i]),
                    $"token {first + i / rows}, row {i % rows}: {whole[first * rows + i]:R} in 40 tokens, {part[i]:R} in {count} from {first}");
        }
    }

    /// <summary>1/s of token t's f16 split: 2^(E − 141), E the f32 exponent field of the row's largest |x|, at least 15.</summary>
    private static double InverseScale(float[] x, int t, int columns)
    {
        float largest = 0;
        for (int c = 0; c < columns; c++) largest = Math.Max(largest, Math.Abs(x[t * columns + c]));
        return Math.Pow(2, Math.Max(15, (int)((BitConverter.SingleToUInt32Bits(largest) >> 23) & 0xFF)) - 141);
    }

    /// <summary>y (+)= W·x through <see cref="HalfTensorCorePrefill{TFormat}"/>, W given as floats exact in the format.</summary>
    private float[] Run(bool f16, float[] weights, int rows, int columns, float[] x, int tokens, int stride, int offset, bool accumulate, float[] start)
    {
        var pairs = new uint[rows * columns / 2];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = Bits(weights[2 * i], f16) | (Bits(weights[2 * i + 1], f16) << 16);
        var shape = new MatrixShape { Tokens = tokens, Rows = rows, Columns = columns, OutputStride = stride, OutputOffset = offset, Accumulate = accumulate ? 1 : 0 };
        using var weightBuffer = Accelerator.Allocate1D(pairs);
        using var xBuffer = Accelerator.Allocate1D(x);
        using var yBuffer = Accelerator.Allocate1D(start);
        if (f16) Launch<F16Tensor>();
        else Launch<BF16Tensor>();
        return yBuffer.GetAsArray1D();

        void Launch<TFormat>() where TFormat : struct, IHalfTensorFormat
        {
            using var prefill = HalfTensorCorePrefill<TFormat>.TryOpen(Accelerator, new LaunchCounter());
            Assert.NotNull(prefill);
            prefill.Run(weightBuffer.View, xBuffer.View, shape, yBuffer.View);
            Accelerator.Synchronize();
        }
    }

    /// <summary>A random value of the format, magnitudes 2^-6..2^3, as its 16 bits.</summary>
    private static uint RandomBits(Random random, bool f16)
    {
        float value = (float)((random.NextDouble() + 0.5) * Math.Pow(2, random.Next(-6, 3)) * (random.Next(2) == 0 ? -1 : 1));
        return f16 ? BitConverter.HalfToUInt16Bits((System.Half)value) : BitConverter.SingleToUInt32Bits(value) >> 16;
    }

    private static float Widen(uint bits, bool f16) => f16 ? (float)BitConverter.UInt16BitsToHalf((ushort)bits) : BitConverter.UInt32BitsToSingle(bits << 16);

    /// <summary>The bits of a float that the format holds exactly.</summary>
    private static uint Bits(float value, bool f16) => f16 ? BitConverter.HalfToUInt16Bits((System.Half)value) : BitConverter.SingleToUInt32Bits(value) >> 16;
}

/// <summary>Kernels for the emulation test (public: the CPU accelerator calls them from its own assembly).</summary>
public static class HalfTensorCoreTestKernels
{
    /// <summary>Each thread: its 10 registers in (c as float bits), the f16 product, its 4 D registers out.</summary>
    public static void MultiplyF16(ArrayView<uint> registers, ArrayView<float> d) => Multiply(default(F16Tensor), registers, d);

    /// <summary>As <see cref="MultiplyF16"/> for bf16.</summary>
    public static void MultiplyBF16(ArrayView<uint> registers, ArrayView<float> d) => Multiply(default(BF16Tensor), registers, d);

    private static void Multiply<TFormat>(TFormat format, ArrayView<uint> registers, ArrayView<float> d) where TFormat : struct, IHalfTensorFormat
    {
        var scratch = SharedMemory.Allocate<float>(2 * HalfTensorCoreMultiply.ScratchPerWarp);
        int thread = Group.IdxX, at = thread * 10;
        var warpScratch = scratch.SubView(thread / 32 * HalfTensorCoreMultiply.ScratchPerWarp, HalfTensorCoreMultiply.ScratchPerWarp);
        var c = new Float4
        {
            X = Interop.IntAsFloat(registers[at + 6]), Y = Interop.IntAsFloat(registers[at + 7]),
            Z = Interop.IntAsFloat(registers[at + 8]), W = Interop.IntAsFloat(registers[at + 9]),
        };
        var result = format.MultiplyAccumulate(registers[at], registers[at + 1], registers[at + 2], registers[at + 3], registers[at + 4], registers[at + 5], c, warpScratch);
        d[thread * 4] = result.X;
        d[thread * 4 + 1] = result.Y;
        d[thread * 4 + 2] = result.Z;
        d[thread * 4 + 3] = result.W;
    }
}
