using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Tests;

/// <summary>The SIMD activation quantizers produce the same bytes as the scalar references, which match ggml's.</summary>
public unsafe class ActivationQuantizationTests
{
    private static float[] Inputs(int count, int seed)
    {
        float[] values = TestData.Weights(count, seed, 1.0f);
        var random = new Random(seed);
        // Exact halves after scaling, equal-magnitude opposite-sign maxima, and zero blocks.
        for (int i = 0; i < count; i += 97) values[i] = (random.Next(-254, 255) + 0.5f) / 127f;
        if (count >= 64) { values[3] = 2.5f; values[40] = -2.5f; }
        if (count >= 512) Array.Clear(values, 256, 256);
        return values;
    }

    [Fact]
    public void Q8RowSimdEqualsScalar()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        foreach (int columns in new[] { 32, 64, 288, 4096 })
        {
            float[] x = Inputs(columns, columns);
            var scalar = new byte[Q8Activations.RowBytes(columns)];
            var simd = new byte[Q8Activations.RowBytes(columns)];
            fixed (float* px = x)
            fixed (byte* a = scalar)
            fixed (byte* b = simd)
            {
                Q8Activations.QuantizeScalar(px, columns, Q8Activations.Row(a, columns, 0));
                Q8Activations.QuantizeAvx512(px, columns, Q8Activations.Row(b, columns, 0));
            }
            Assert.Equal(scalar, simd);
        }
    }

    [Fact]
    public void Q8KRowSimdEqualsScalar()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        foreach (int columns in new[] { 256, 768, 4096 })
        {
            float[] x = Inputs(columns, columns + 1);
            var scalar = new byte[Q8KActivations.RowBytes(columns)];
            var simd = new byte[Q8KActivations.RowBytes(columns)];
            fixed (float* px = x)
            fixed (byte* a = scalar)
            fixed (byte* b = simd)
            {
                Q8KActivations.QuantizeScalar(px, columns, Q8KActivations.Row(a, columns, 0));
                Q8KActivations.QuantizeAvx512(px, columns, Q8KActivations.Row(b, columns, 0));
            }
            Assert.Equal(scalar, simd);
        }
    }

    [Fact]
    public void Q8KMatchesLlamaCpp()
    {
        foreach (int columns in new[] { 256, 4096 })
        {
            float[] x = Inputs(columns, columns + 2);
            var ours = new byte[GgmlTypeInfo.ByteCount(GgmlType.Q8_K, columns)];
            var theirs = new byte[ours.Length];
            Quantizer.QuantizeRow(GgmlType.Q8_K, x, ours);
            fixed (float* px = x)
            fixed (byte* p = theirs)
                GgmlNative.QuantizeRowQ8K(px, p, columns);
            Assert.Equal(theirs, ours);
        }
    }
}
