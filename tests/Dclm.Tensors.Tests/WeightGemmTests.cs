using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

/// <summary>
/// WeightGemm's forward (y = x·Wᵀ) and input-gradient (dx = dy·W) products for every stored type, at every
/// instruction-set level and thread count, against a plain reference over the dequantized weights (the same
/// bits: one fused multiply-add chain per element, in order) and against a float64 product.
/// </summary>
public unsafe class WeightGemmTests
{
    private static readonly GgmlType[] Types = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    public static TheoryData<GgmlType, int, int, int> Shapes()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in Types)
        {
            int block = GgmlTypeInfo.BlockSize(type);
            // Tokens 0, 1, 5 and 33 (partial tiles), rows around the 64-row panels, columns across the 256-column chunks.
            foreach (var (tokens, rows, blocks) in new[] { (0, 3, 1), (1, 1, 1), (5, 65, 3), (33, 130, 2), (4, 64, 9) })
                data.Add(type, tokens, rows, block == 1 ? blocks * 100 + rows % 7 : blocks * block);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardAndBackwardMatchTheReferenceAtEveryLevel(GgmlType type, int tokens, int rows, int columns)
    {
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        var stored = new byte[rowBytes * rows];
        Quantizer.Quantize(type, TestData.Weights(rows * columns, rows + columns), rows, columns, stored);
        var dequantized = new float[rows * columns];
        for (int r = 0; r < rows; r++)
            Quantizer.DequantizeRow(type, stored.AsSpan((int)(r * rowBytes), (int)rowBytes), dequantized.AsSpan(r * columns, columns));
        float[] x = TestData.Weights(tokens * columns, 3, scale: 1f), dy = TestData.Weights(tokens * rows, 4, scale: 1f);
        float[] yStart = TestData.Weights(tokens * rows, 5), dxStart = TestData.Weights(tokens * columns, 6);

        foreach (bool accumulate in new[] { false, true })
        {
            // The reference: each element one fused multiply-add chain in order over the dequantized weights.
            var yExpected = new float[tokens * rows];
            var dxExpected = new float[tokens * columns];
            for (int t = 0; t < tokens; t++)
            {
                for (int r = 0; r < rows; r++)
                {
                    float sum = accumulate ? yStart[t * rows + r] : 0f;
                    for (int c = 0; c < columns; c++) sum = MathF.FusedMultiplyAdd(x[t * columns + c], dequantized[r * columns + c], sum);
                    yExpected[t * rows + r] = sum;
                }
                for (int c = 0; c < columns; c++)
                {
                    float sum = accumulate ? dxStart[t * columns + c] : 0f;
                    for (int r = 0; r < rows; r++) sum = MathF.FusedMultiplyAdd(dy[t * rows + r], dequantized[r * columns + c], sum);
                    dxExpected[t * columns + c] = sum;
                }
            }
            AssertNearFloat64(yExpected, x, dequantized, tokens, rows, columns, accumulate ? yStart : null, transposed: false);
            AssertNearFloat64(dxExpected, dy, dequantized, tokens, rows, columns, accumulate ? dxStart : null, transposed: true);
            fixed (byte* p = stored)
            {
                var weight = new WeightMatrix(p, type, rows, columns);
                foreach (var isa in Enum.GetValues<KernelIsa>().Where(KernelIsaInfo.IsSupported))
                    foreach (int threads in new[] { 1, 2 })
                    {
                        using var pool = new ComputePool(threads);
                        var y = accumulate ? (float[])yStart.Clone() : Enumerable.Repeat(float.NaN, tokens * rows).ToArray();
                        WeightGemm.Forward(x, tokens, weight, y, accumulate, pool, isa);
                        Assert.True(yExpected.AsSpan().SequenceEqual(y), $"{type} forward at {isa}, {threads} threads, accumulate {accumulate}");
                        var dx = accumulate ? (float[])dxStart.Clone() : Enumerable.Repeat(float.NaN, tokens * columns).ToArray();
                        WeightGemm.Backward(dy, tokens, weight, dx, accumulate, pool, isa);
                        Assert.True(dxExpected.AsSpan().SequenceEqual(dx), $"{type} backward at {isa}, {threads} threads, accumulate {accumulate}");
                    }
            }
        }
    }

    /// <summary>The reference itself is the product: within float rounding of a float64 product.</summary>
    private static void AssertNearFloat64(float[] actual, float[] input, float[] w, int tokens, int rows, int columns, float[]? start, bool transposed)
    {
        int outWidth = transposed ? columns : rows, depth = transposed ? rows : columns;
        for (int t = 0; t < tokens; t++)
            for (int o = 0; o < outWidth; o++)
            {
                double sum = start?[t * outWidth + o] ?? 0, magnitude = Math.Abs(sum);
                for (int k = 0; k < depth; k++)
                {
                    double term = (double)input[t * depth + k] * (transposed ? w[k * columns + o] : w[o * columns + k]);
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                Assert.True(Math.Abs(actual[t * outWidth + o] - sum) <= 1e-6 * magnitude + 1e-30, $"element ({t}, {o}): {actual[t * outWidth + o]} vs {sum}");
            }
    }

    [Fact]
    public void RejectsShortBuffersAndUnsupportedTypes()
    {
        var stored = new float[4 * 8];
        fixed (float* p = stored)
        {
            var weight = new WeightMatrix((byte*)p, GgmlType.F32, 4, 8);
            using var pool = new ComputePool(1);
            Assert.Throws<ArgumentException>(() => WeightGemm.Forward(new float[15], 2, weight, new float[8], false, pool));
            Assert.Throws<ArgumentException>(() => WeightGemm.Forward(new float[16], 2, weight, new float[7], false, pool));
            Assert.Throws<ArgumentException>(() => WeightGemm.Backward(new float[7], 2, weight, new float[16], false, pool));
            var q5 = new WeightMatrix((byte*)p, GgmlType.Q5_0, 1, 32);
            Assert.Throws<NotSupportedException>(() => WeightGemm.Forward(new float[32], 1, q5, new float[1], false, pool));
        }
    }
}
