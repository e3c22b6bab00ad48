using Dclm.Gpu.Kernels;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;
using ILGPU.Runtime;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The decode (≤ 8 tokens) matrix kernels on 8- and 32-wide warps (one and four weight rows per warp) against the CPU
/// engine's MatMul: Q8_0/Q4_0 products bit for bit (the CPU engine's integer block sums and fma chains), f32/f16/bf16
/// products close to it and the same bits whatever the batch or the warp width; and the dp4a fallback against the PTX
/// ISA's definition.
/// </summary>
public sealed unsafe class DecodeKernelTests(DecodeDevicesFixture devices) : IClassFixture<DecodeDevicesFixture>
{
    /// <summary>c + Σ_i a_i·b_i over the bytes as sbytes, in 64 bits (dp4a.s32.s32 per the PTX ISA is this modulo 2^32).</summary>
    private static long ByteDotExact(int a, int b, int c)
    {
        byte[] x = BitConverter.GetBytes(a), y = BitConverter.GetBytes(b);
        long sum = c;
        for (int i = 0; i < 4; i++) sum += (long)unchecked((sbyte)x[i]) * unchecked((sbyte)y[i]);
        return sum;
    }

    [Fact]
    public void ByteDotFallbackIsTheDefinitionOfDp4a()
    {
        int[] extremes = [0, 1, -1, int.MinValue, int.MaxValue, unchecked((int)0x80808080), 0x7F7F7F7F, 0x01010101, 0x0F0F0F0F,
            unchecked((int)0xF0F0F0F0), unchecked((int)0x807F807F), 0x00FF00FF, unchecked((int)0xFF00FF00)];
        int wrapped = 0;
        foreach (int a in extremes)
            foreach (int b in extremes)
                foreach (int c in extremes)
                {
                    long exact = ByteDotExact(a, b, c);
                    if (exact != unchecked((int)exact)) wrapped++;
                    Assert.Equal(unchecked((int)exact), DeviceNumbers.ByteDotBySignExtension(a, b, c));
                }
        Assert.True(wrapped > 0, "no extreme case wraps past int's range");
        var random = new Random(24);
        for (int i = 0; i < 1_000_000; i++)
        {
            int a = random.Next(int.MinValue, int.MaxValue), b = random.Next(int.MinValue, int.MaxValue), c = random.Next(int.MinValue, int.MaxValue);
            Assert.Equal(unchecked((int)ByteDotExact(a, b, c)), DeviceNumbers.ByteDotBySignExtension(a, b, c));
        }
    }

    /// <summary>
    /// Block sums T_b alone: one block per row with d_w = 1 and activations whose Q8_0 scale is 1 (integer levels with a
    /// ±127 in every token), so each output is fma(T_b, 1, 0) = T_b exactly, in the GPU decode kernel and in MatMul. Both
    /// must equal ggml's definition, Σ_j (q_j − 8)·a_j (Q4_0) or Σ_j q_j·a_j (Q8_0), over random and extreme blocks.
    /// </summary>
    [Theory]
    [InlineData("q4_0", 8)]
    [InlineData("q8_0", 8)]
    [InlineData("q4_0", 32)]
    [InlineData("q8_0", 32)]
    public void BlockSumsAreExactIntegers(string typeName, int warp)
    {
        Assert.True(GgmlTypeInfo.TryParse(typeName, out var type));
        const int rows = 203, tokens = 8;
        var random = new Random(2024 + warp);
        var weights = RandomQuantized(type, rows, 32, random, unitScales: true);
        // Extreme blocks: every level at its lowest, then at its highest.
        int blockBytes = type == GgmlType.Q4_0 ? 18 : 34;
        for (int i = 2; i < blockBytes; i++)
        {
            weights[i] = type == GgmlType.Q4_0 ? (byte)0x00 : unchecked((byte)(sbyte)-127);
            weights[blockBytes + i] = type == GgmlType.Q4_0 ? (byte)0xFF : (byte)127;
        }
        var x = new float[tokens * 32];
        for (int t = 0; t < tokens; t++)
        {
            for (int j = 0; j < 32; j++) x[t * 32 + j] = t switch { 0 => -127, 1 => 127, _ => random.Next(-127, 128) };
            x[t * 32 + random.Next(32)] = random.Next(2) == 0 ? 127 : -127;
        }
        var gpu = DeviceProduct(devices.Get(warp), weights, type, rows, 32, x, tokens);
        var cpu = CpuProduct(weights, type, rows, 32, x, tokens);
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
            {
                int expected = BlockSumDefinition(type, weights.AsSpan(r * blockBytes + 2, blockBytes - 2), x.AsSpan(t * 32, 32));
                Assert.Equal(expected, gpu[t * rows + r]);
                Assert.Equal(expected, cpu[t * rows + r]);
            }
    }

    private static int BlockSumDefinition(GgmlType type, ReadOnlySpan<byte> levels, ReadOnlySpan<float> activations)
    {
        int sum = 0;
        for (int j = 0; j < 32; j++)
        {
            int level = type == GgmlType.Q8_0 ? (sbyte)levels[j] : (j < 16 ? levels[j] & 0xF : levels[j - 16] >> 4) - 8;
            sum += level * (int)activations[j];
        }
        return sum;
    }

    /// <summary>
    /// Whole decode products, 1..8 tokens, row counts that are and are not multiples of the rows per warp, blocks per row
    /// below 8, between 8 and 32, and above (the four-block steps and their tails): the CPU engine's bits.
    /// </summary>
    [Theory]
    [InlineData("q4_0", 8)]
    [InlineData("q8_0", 8)]
    [InlineData("q4_0", 32)]
    [InlineData("q8_0", 32)]
    public void QuantizedDecodeEqualsTheCpuEngineBitForBit(string typeName, int warp)
    {
        Assert.True(GgmlTypeInfo.TryParse(typeName, out var type));
        var random = new Random(7 * warp);
        foreach (var (rows, columns) in new[] { (1, 32 * 5), (3, 32 * 9), (6, 32 * 41), (13, 32 * 36), (33, 32 * 2) })
        {
            var weights = RandomQuantized(type, rows, columns, random, unitScales: false);
            var x = RandomActivations(8 * columns, random);
            for (int tokens = 1; tokens <= 8; tokens++)
            {
                var gpu = DeviceProduct(devices.Get(warp), weights, type, rows, columns, x, tokens);
                var cpu = CpuProduct(weights, type, rows, columns, x, tokens);
                for (int i = 0; i < gpu.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(cpu[i]) == BitConverter.SingleToInt32Bits(gpu[i]),
                        $"{typeName} {rows}×{columns}, {tokens} tokens, output {i}: cpu {cpu[i]:R}, gpu {gpu[i]:R}");
            }
        }
    }

    /// <summary>
    /// f32/f16/bf16 decode: a token's outputs are the same bits in every batch of 1..8 tokens and on 8- and 32-wide warps
    /// (a row's sum runs over its eight lanes in a fixed order), and within 1e-5 of Σ|w·x| of the CPU engine's.
    /// </summary>
    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void FloatDecodeIsIndependentOfBatchAndWarpAndCloseToTheCpuEngine(string typeName)
    {
        Assert.True(GgmlTypeInfo.TryParse(typeName, out var type));
        var random = new Random(11);
        foreach (var (rows, columns) in new[] { (1, 32 * 3), (5, 32 * 9), (13, 32 * 40), (33, 32 * 17) })
        {
            var values = RandomActivations(rows * columns, random);
            var weights = new byte[GgmlTypeInfo.ByteCount(type, columns) * rows];
            Quantizer.Quantize(type, values, rows, columns, weights);
            var x = RandomActivations(8 * columns, random);
            var alone = DeviceProduct(devices.Narrow, weights, type, rows, columns, x, 8, tokenByToken: true);
            var cpu = CpuProduct(weights, type, rows, columns, x, 8);
            for (int tokens = 1; tokens <= 8; tokens++)
                foreach (var kernels in new[] { devices.Narrow, devices.Wide })
                {
                    var gpu = DeviceProduct(kernels, weights, type, rows, columns, x, tokens);
                    for (int i = 0; i < gpu.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(gpu[i]),
                            $"{typeName} {rows}×{columns}, {tokens} tokens, warp {kernels.Accelerator.WarpSize}, output {i}: alone {alone[i]:R}, batched {gpu[i]:R}");
                }
            var dequantized = new float[rows * columns];
            fixed (byte* w = weights)
                for (int r = 0; r < rows; r++) Dequantize.Row(new WeightMatrix(w, type, rows, columns), r, dequantized.AsSpan(r * columns, columns));
            for (int t = 0; t < 8; t++)
                for (int r = 0; r < rows; r++)
                {
                    double magnitude = 0;
                    for (int c = 0; c < columns; c++) magnitude += Math.Abs((double)dequantized[r * columns + c] * x[t * columns + c]);
                    Assert.True(Math.Abs(alone[t * rows + r] - cpu[t * rows + r]) <= 1e-5 * magnitude,
                        $"{typeName} {rows}×{columns} token {t} row {r}: gpu {alone[t * rows + r]:R}, cpu {cpu[t * rows + r]:R}");
                }
        }
    }

    /// <summary>Random ggml blocks: f16 scales (1 when <paramref name="unitScales"/>), random nibbles or levels in [−127, 127].</summary>
    private static byte[] RandomQuantized(GgmlType type, int rows, int columns, Random random, bool unitScales)
    {
        int blockBytes = type == GgmlType.Q4_0 ? 18 : 34;
        var data = new byte[rows * columns / 32 * blockBytes];
        for (int at = 0; at < data.Length; at += blockBytes)
        {
            var scale = unitScales ? (Half)1 : (Half)((random.NextDouble() * 2 - 1) * 0.02);
            BitConverter.TryWriteBytes(data.AsSpan(at, 2), BitConverter.HalfToUInt16Bits(scale));
            for (int i = 2; i < blockBytes; i++)
                data[at + i] = type == GgmlType.Q4_0 ? (byte)random.Next(256) : unchecked((byte)(sbyte)random.Next(-127, 128));
        }
        return data;
    }

    private static float[] RandomActivations(int count, Random random)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-3, 3)));
        return x;
    }

    private static float[] CpuProduct(byte[] weights, GgmlType type, int rows, int columns, float[] x, int tokens)
    {
        var y = new float[tokens * rows];
        fixed (byte* w = weights) MatMul.Multiply(x.AsSpan(0, tokens * columns), tokens, new WeightMatrix(w, type, rows, columns), y);
        return y;
    }

    /// <summary>
    /// y (tokens, rows) from the device's decode kernel through DeviceMatrix, as a step runs it (activations quantized on
    /// the device first for Q8_0/Q4_0); <paramref name="tokenByToken"/> runs one launch per token.
    /// </summary>
    private static float[] DeviceProduct(GpuKernels kernels, byte[] weights, GgmlType type, int rows, int columns, float[] x, int tokens,
        bool tokenByToken = false)
    {
        var accelerator = kernels.Accelerator;
        DeviceMatrix matrix;
        fixed (byte* w = weights) matrix = new DeviceMatrix(accelerator, new WeightMatrix(w, type, rows, columns), GgmlTypeInfo.Name(type));
        using (matrix)
        using (var input = accelerator.Allocate1D(x.AsSpan(0, tokens * columns).ToArray()))
        using (var levels = accelerator.Allocate1D<int>(tokens * columns / 4))
        using (var scales = accelerator.Allocate1D<float>(tokens * columns / 32))
        using (var output = accelerator.Allocate1D<float>(tokens * rows))
        {
            int launches = tokenByToken ? tokens : 1, perLaunch = tokens / launches;
            for (int l = 0; l < launches; l++)
            {
                var y = output.View.SubView((long)l * perLaunch * rows, perLaunch * rows);
                if (matrix.WantsQ8Input)
                {
                    kernels.QuantizeToQ8(tokens * columns / 32, input.View, levels.View, scales.View);
                    matrix.ApplyQuantized(kernels, levels.View.SubView((long)l * perLaunch * columns / 4, perLaunch * columns / 4),
                        scales.View.SubView((long)l * perLaunch * columns / 32, perLaunch * columns / 32), perLaunch, y, rows, 0, accumulate: false);
                }
                else matrix.Apply(kernels, input.View.SubView((long)l * perLaunch * columns, perLaunch * columns), perLaunch, y, rows, 0, accumulate: false);
            }
            accelerator.Synchronize();
            return output.GetAsArray1D();
        }
    }
}
