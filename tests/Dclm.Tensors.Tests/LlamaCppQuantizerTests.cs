using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

/// <summary>Our reference quantizers against llama.cpp's ggml_quantize_chunk, byte for byte.</summary>
public unsafe class LlamaCppQuantizerTests
{
    public static TheoryData<GgmlType, int, int, int, float> Cases() => new()
    {
        { GgmlType.Q8_0, 8, 1024, 1, 0.05f },
        { GgmlType.Q8_0, 3, 4096, 2, 3.0f },
        { GgmlType.Q4_0, 8, 1024, 3, 0.05f },
        { GgmlType.Q4_0, 3, 4096, 4, 3.0f },
        { GgmlType.Q4_K, 8, 1024, 5, 0.05f },
        { GgmlType.Q4_K, 3, 4096, 6, 3.0f },
        { GgmlType.Q6_K, 8, 1024, 7, 0.05f },
        { GgmlType.Q6_K, 3, 4096, 8, 3.0f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void QuantizeMatchesLlamaCpp(GgmlType type, int rows, int columns, int seed, float scale)
    {
        float[] source = TestData.Weights(rows * columns, seed, scale);
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        var ours = new byte[rowBytes * rows];
        var theirs = new byte[rowBytes * rows];
        Quantizer.Quantize(type, source, rows, columns, ours);
        fixed (float* x = source)
        fixed (byte* y = theirs)
        {
            nuint written = GgmlNative.QuantizeChunk(type, x, y, 0, rows, columns);
            Assert.Equal((nuint)theirs.Length, written);
        }
        int first = ours.AsSpan().CommonPrefixLength(theirs);
        Assert.True(first == ours.Length, $"{type}: first differing byte {first} (row {first / rowBytes}, offset {first % rowBytes})");
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void QuantizeRowMatchesLlamaCppOnHardValues(GgmlType type)
    {
        // Ties, a single large value, negative extremes and subnormal-scale blocks stress the rounding rules.
        int columns = 1024;
        var source = new float[columns];
        var random = new Random(42);
        for (int i = 0; i < columns; i++)
        {
            int kind = i / 128;
            source[i] = kind switch
            {
                0 => (i % 17 - 8) * 0.5f,
                1 => i % 32 == 5 ? -100f : random.NextSingle() - 0.5f,
                2 => 1e-30f * (random.NextSingle() - 0.5f),
                3 => random.Next(3) - 1,
                4 => i % 2 == 0 ? 7.5f : -7.5f,
                5 => MathF.Pow(2, random.Next(-20, 20)) * (random.Next(2) * 2 - 1),
                _ => (random.NextSingle() - 0.5f) * 1000,
            };
        }
        long bytes = GgmlTypeInfo.ByteCount(type, columns);
        var ours = new byte[bytes];
        var theirs = new byte[bytes];
        Quantizer.QuantizeRow(type, source, ours);
        fixed (float* x = source)
        fixed (byte* y = theirs)
            GgmlNative.QuantizeChunk(type, x, y, 0, 1, columns);
        int first = ours.AsSpan().CommonPrefixLength(theirs);
        Assert.True(first == ours.Length, $"{type}: first differing byte {first}");
    }
}
