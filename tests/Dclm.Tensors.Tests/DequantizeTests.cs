using Dclm.Tensors.Compute;
using Dclm.Tensors.Numerics;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

/// <summary>Dequantizers against the block formulas written out here, and round-trip error bounds.</summary>
public unsafe class DequantizeTests
{
    [Fact]
    public void Q8_0AndQ4_0DequantizeByTheBlockFormula()
    {
        var random = new Random(21);
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            int blocks = 37, blockBytes = GgmlTypeInfo.BlockBytes(type);
            var row = new byte[blocks * blockBytes];
            random.NextBytes(row);
            for (int b = 0; b < blocks; b++) BitConverter.TryWriteBytes(row.AsSpan(b * blockBytes), HalfConversion.FromSingle(random.NextSingle() - 0.5f));
            var values = new float[blocks * 32];
            Quantizer.DequantizeRow(type, row, values);
            for (int b = 0; b < blocks; b++)
            {
                float d = HalfConversion.ToSingle(BitConverter.ToUInt16(row, b * blockBytes));
                for (int j = 0; j < 32; j++)
                {
                    int level = type == GgmlType.Q8_0
                        ? (sbyte)row[b * blockBytes + 2 + j]
                        : (j < 16 ? row[b * blockBytes + 2 + j] & 0xF : row[b * blockBytes + 2 + j - 16] >> 4) - 8;
                    Assert.Equal(level * d, values[b * 32 + j]);
                }
            }
        }
    }

    [Theory]
    // Q8_0: half a step (amax/254) plus the f16 rounding of d times 127 (amax/2048). Q4_0: levels
    // -8..7 reach only 7/8 of amax on one side, so up to amax/8, plus d's rounding. F16/BF16: half an
    // ulp relative (plus f16's subnormal spacing). K-quants: measured bounds of ggml's scale search.
    [InlineData(GgmlType.Q8_0, 1.0 / 254 + 1.0 / 2048)]
    [InlineData(GgmlType.Q4_0, 1.0 / 8 + 1.0 / 2048)]
    [InlineData(GgmlType.Q4_K, 1.0 / 10)]
    [InlineData(GgmlType.Q6_K, 1.0 / 40)]
    [InlineData(GgmlType.F16, 1.0 / 2048)]
    [InlineData(GgmlType.BF16, 1.0 / 256)]
    public void RoundTripErrorStaysWithinTheFormatsStep(GgmlType type, double relativeToBlockMax)
    {
        const int rows = 6, columns = 1024;
        float[] source = TestData.Weights(rows * columns, 17, 1.0f);
        var stored = new byte[GgmlTypeInfo.ByteCount(type, columns) * rows];
        using var pool = new ComputePool(2);
        Quantizer.Quantize(type, source, rows, columns, stored, pool);
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        var back = new float[columns];
        int block = Math.Max(32, GgmlTypeInfo.BlockSize(type));
        for (int r = 0; r < rows; r++)
        {
            fixed (byte* p = stored)
                Dequantize.Row(new WeightMatrix(p, type, rows, columns), r, back);
            for (int c = 0; c < columns; c++)
            {
                int start = c / block * block;
                double blockMax = 0;
                for (int i = start; i < start + block; i++) blockMax = Math.Max(blockMax, Math.Abs(source[r * columns + i]));
                double allowed = GgmlTypeInfo.BlockSize(type) == 1 ? Math.Abs(source[r * columns + c]) * relativeToBlockMax + Math.Pow(2, -25) : blockMax * relativeToBlockMax * 1.001 + 128 * Math.Pow(2, -25); // the last term: d rounded to f16, whose spacing near 0 is 2^-24
                Assert.True(Math.Abs(back[c] - source[r * columns + c]) <= allowed,
                    $"{type} row {r} column {c}: {back[c]} vs {source[r * columns + c]} (allowed {allowed})");
            }
        }
    }

    [Fact]
    public void ParallelQuantizeEqualsSingleThreaded()
    {
        const int rows = 33, columns = 512;
        float[] source = TestData.Weights(rows * columns, 8);
        using var pool = new ComputePool(3);
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.BF16 })
        {
            var single = new byte[GgmlTypeInfo.ByteCount(type, columns) * rows];
            var parallel = new byte[single.Length];
            Quantizer.Quantize(type, source, rows, columns, single);
            Quantizer.Quantize(type, source, rows, columns, parallel, pool);
            Assert.Equal(single, parallel);
        }
    }

    [Fact]
    public void RejectsBadSizes()
    {
        Assert.Throws<ArgumentException>(() => Quantizer.QuantizeRow(GgmlType.Q4_0, new float[33], new byte[100]));
        Assert.Throws<ArgumentException>(() => Quantizer.QuantizeRow(GgmlType.Q4_0, new float[32], new byte[17]));
        Assert.Throws<ArgumentException>(() => Quantizer.DequantizeRow(GgmlType.Q4_K, new byte[143], new float[256]));
        Assert.Throws<NotSupportedException>(() => Quantizer.QuantizeRow(GgmlType.Q5_K, new float[256], new byte[1000]));
        var data = new byte[34];
        fixed (byte* p = data)
        {
            var matrix = new WeightMatrix(p, GgmlType.Q8_0, 1, 32);
            Assert.Throws<ArgumentOutOfRangeException>(() => Dequantize.Row(matrix, 1, new float[32]));
            Assert.Throws<ArgumentException>(() => Dequantize.Row(matrix, 0, new float[31]));
        }
    }
}
