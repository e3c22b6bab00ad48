using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

/// <summary>
/// Every kernel level this processor runs (scalar, AVX2, AVX-VNNI, AVX-512), each forced in turn, against llama.cpp's own
/// plain-C dot products (ggml_vec_dot_*_generic from LLamaSharp's no-AVX ggml-cpu) on weights quantized by llama.cpp:
/// one-row kernels at every size, and whole products whose token counts reach the four-token kernels and the 8- and
/// 16-token tiles. Both sides sum the same exact integer block sums; only the float order of combining blocks differs,
/// so they agree to a few float roundings of the sum of the blocks' magnitudes.
/// </summary>
public unsafe class LlamaCppDotTests
{
    private static IEnumerable<KernelIsa> Levels() => Enum.GetValues<KernelIsa>().Where(KernelIsaInfo.IsSupported);

    private static bool IsK(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>Weights quantized by llama.cpp (ggml_quantize_chunk).</summary>
    private static byte[] LlamaCppWeights(GgmlType type, int rows, int columns, int seed)
    {
        float[] source = TestData.Weights(rows * columns, seed, scale: 0.5f);
        var stored = new byte[GgmlTypeInfo.ByteCount(type, columns) * rows + 64];
        fixed (float* x = source)
        fixed (byte* y = stored)
            GgmlNative.QuantizeChunk(type, x, y, 0, rows, columns);
        return stored;
    }

    /// <summary>One activation row in llama.cpp's format for <paramref name="type"/>'s dot product (Q8_0 or Q8_K).</summary>
    private static byte[] LlamaCppActivations(GgmlType type, float* x, int columns)
    {
        var row = new byte[GgmlTypeInfo.ByteCount(IsK(type) ? GgmlType.Q8_K : GgmlType.Q8_0, columns) + 16];
        fixed (byte* p = row)
        {
            if (IsK(type)) GgmlNative.QuantizeRowQ8K(x, p, columns);
            else GgmlNative.QuantizeRowQ8_0(x, p, columns);
        }
        return row;
    }

    /// <summary>Σ |w·x| over the row, weights and activations dequantized: the scale of the float rounding allowed.</summary>
    private static double Magnitude(GgmlType type, byte[] weights, long offset, byte[] activations, int columns)
    {
        var w = new float[columns];
        var a = new float[columns];
        Quantizer.DequantizeRow(type, weights.AsSpan((int)offset, (int)GgmlTypeInfo.ByteCount(type, columns)), w);
        var activationType = IsK(type) ? GgmlType.Q8_K : GgmlType.Q8_0;
        if (activationType == GgmlType.Q8_0) Quantizer.DequantizeRow(activationType, activations.AsSpan(0, (int)GgmlTypeInfo.ByteCount(activationType, columns)), a);
        else
            for (int b = 0; b < columns / 256; b++)
            {
                float d = BitConverter.ToSingle(activations, b * 292);
                for (int i = 0; i < 256; i++) a[b * 256 + i] = d * (sbyte)activations[b * 292 + 4 + i];
            }
        double sum = 0;
        for (int c = 0; c < columns; c++) sum += Math.Abs((double)w[c] * a[c]);
        return sum;
    }

    private static void AssertClose(float expected, float actual, double magnitude, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 2e-6 * magnitude + 1e-30,
            $"{what}: ours {actual}, llama.cpp {expected} (difference {actual - expected}, magnitude {magnitude})");

    /// <summary>
    /// Our activation rows hold llama.cpp's bytes (quants and f16-rounded scales), and every level's one-row kernel
    /// gives llama.cpp's dot product, at every block count 0..257 (Q4_0, Q8_0) or 0..40 (K-quants).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0, 257)]
    [InlineData(GgmlType.Q8_0, 257)]
    [InlineData(GgmlType.Q4_K, 40)]
    [InlineData(GgmlType.Q6_K, 40)]
    public void OneRowKernelsOfEveryLevelGiveLlamaCppsDotProduct(GgmlType type, int maxBlocks)
    {
        int blockSize = GgmlTypeInfo.BlockSize(type);
        float[] input = TestData.Weights(maxBlocks * blockSize, 77 + (int)type, scale: 1.0f);
        byte[] weights = LlamaCppWeights(type, 1, maxBlocks * blockSize, 5 + (int)type);
        for (int blocks = 0; blocks <= maxBlocks; blocks++)
        {
            int columns = blocks * blockSize;
            // The row's first `columns` values, quantized on their own (the trailing blocks of the weight row are unused).
            byte[] theirs;
            fixed (float* x = input) theirs = LlamaCppActivations(type, x, columns);
            var ours = new byte[(IsK(type) ? Q8KActivations.RowBytes(columns) : Q8Activations.RowBytes(columns)) + 64];
            fixed (float* x = input)
            fixed (byte* w = weights)
            fixed (byte* a = ours)
            fixed (byte* t = theirs)
            {
                if (IsK(type)) Q8KActivations.Quantize(x, columns, Q8KActivations.Row(a, columns, 0));
                else
                {
                    var row = Q8Activations.Row(a, columns, 0);
                    Q8Activations.Quantize(x, columns, row);
                    for (int b = 0; b < blocks; b++)
                    {
                        Assert.Equal(HalfConversion.ToSingle(BitConverter.ToUInt16(theirs, b * 34)), row.Scales[b]);
                        for (int i = 0; i < 32; i++) Assert.Equal((sbyte)theirs[b * 34 + 2 + i], row.Quants[b * 32 + i]);
                    }
                }
                float expected = GgmlNative.VecDot(type, w, t, columns);
                double magnitude = Magnitude(type, weights, 0, theirs, columns);
                foreach (KernelIsa isa in Levels())
                {
                    float actual = IsK(type)
                        ? DotKernels.Q8K(type, isa)(w, Q8KActivations.Row(a, columns, 0), blocks)
                        : DotKernels.Q8(type, isa)(w, Q8Activations.Row(a, columns, 0), blocks);
                    AssertClose(expected, actual, magnitude, $"{type} {isa} {blocks} blocks");
                }
            }
        }
    }

    /// <summary>
    /// Whole products with each level forced, for token counts that run the one-row kernels (1, 3), the K-quants'
    /// four-token kernels (4, 5), the 256-bit tiles (8, 13) and the 512-bit Q4_0 tiles (16, 19), and row counts with
    /// remainders: every output is llama.cpp's dot product of that weight row with that token.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0, 32 * 67)]
    [InlineData(GgmlType.Q8_0, 32 * 67)]
    [InlineData(GgmlType.Q4_K, 256 * 5)]
    [InlineData(GgmlType.Q6_K, 256 * 5)]
    public void ProductsOfEveryLevelGiveLlamaCppsDotProducts(GgmlType type, int columns)
    {
        const int rows = 23;
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        byte[] weights = LlamaCppWeights(type, rows, columns, 9 + (int)type);
        using var pool = new ComputePool(2);
        foreach (int tokens in new[] { 1, 3, 4, 5, 8, 13, 16, 19 })
        {
            float[] input = TestData.Weights(tokens * columns, tokens * 131 + (int)type, scale: 1.0f);
            var expected = new float[tokens * rows];
            var magnitude = new double[tokens * rows];
            fixed (float* x = input)
            fixed (byte* w = weights)
                for (int t = 0; t < tokens; t++)
                {
                    byte[] activations = LlamaCppActivations(type, x + (long)t * columns, columns);
                    fixed (byte* a = activations)
                        for (int r = 0; r < rows; r++)
                        {
                            expected[t * rows + r] = GgmlNative.VecDot(type, w + r * rowBytes, a, columns);
                            magnitude[t * rows + r] = Magnitude(type, weights, r * rowBytes, activations, columns);
                        }
                }
            fixed (byte* w = weights)
            {
                var matrix = new WeightMatrix(w, type, rows, columns);
                foreach (KernelIsa isa in Levels())
                {
                    var output = new float[tokens * rows];
                    MatMul.Multiply(input, tokens, matrix, output, pool, isa);
                    for (int i = 0; i < output.Length; i++)
                        AssertClose(expected[i], output[i], magnitude[i], $"{type} {isa} tokens={tokens} token {i / rows} row {i % rows}");
                }
            }
        }
    }
}
