using Dclm.Tensors.Ops;

namespace Dclm.Tensors.Tests;

/// <summary>The vectorized norms, RoPE and softmax against plain scalar definitions.</summary>
public sealed class VectorOpsTests
{
    private static float[] Row(int n, int seed, float offset)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => offset + (float)(random.NextDouble() * 4 - 2)).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(256)]
    [InlineData(4096)]
    public void LayerNormMatchesTheTwoPassDefinition(int n)
    {
        // A large common offset: a one-pass E[x²] − E[x]² in float would lose the variance.
        var x = Row(n, n, 1000f);
        var gain = Row(n, n + 1, 1f);
        var actual = new float[n];
        LayerNorm.Apply(x, gain, 1e-5f, actual);
        double mean = x.Select(v => (double)v).Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        double inverse = 1 / Math.Sqrt(variance + 1e-5);
        for (int i = 0; i < n; i++)
            Assert.Equal((x[i] - mean) * inverse * gain[i], actual[i], 2e-4 * Math.Max(1, Math.Abs(actual[i])));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(128)]
    [InlineData(4097)]
    public void RmsNormMatchesItsDefinition(int n)
    {
        var x = Row(n, n, 0.5f);
        var gain = Row(n, n + 1, 1f);
        var actual = new float[n];
        RmsNorm.Apply(x, gain, 1e-6f, actual);
        double inverse = 1 / Math.Sqrt(x.Select(v => (double)v * v).Average() + 1e-6);
        for (int i = 0; i < n; i++)
            Assert.Equal(x[i] * inverse * gain[i], actual[i], 1e-5 * Math.Max(1, Math.Abs(actual[i])));
    }

    [Theory]
    [InlineData(64, RopeStyle.HalfSplit)]
    [InlineData(128, RopeStyle.HalfSplit)]
    [InlineData(20, RopeStyle.HalfSplit)]
    [InlineData(64, RopeStyle.AdjacentPairs)]
    public void RopeRotatesEveryPairLikeTheScalarFormula(int headDim, RopeStyle style)
    {
        int half = headDim / 2, heads = 3;
        var input = Row(heads * headDim, headDim, 0f);
        var cos = new float[half];
        var sin = new float[half];
        RotaryEmbedding.Angles(37, RotaryEmbedding.InverseFrequencies(headDim, 10000), cos, sin);
        var actual = (float[])input.Clone();
        RotaryEmbedding.Apply(actual, headDim, cos, sin, style);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
            {
                int ia = h * headDim + (style == RopeStyle.HalfSplit ? i : 2 * i);
                int ib = h * headDim + (style == RopeStyle.HalfSplit ? i + half : 2 * i + 1);
                float a = input[ia], b = input[ib];
                // Bit for bit: the vector path multiplies and subtracts like the scalar one, unfused.
                Assert.Equal(a * cos[i] - b * sin[i], actual[ia]);
                Assert.Equal(a * sin[i] + b * cos[i], actual[ib]);
            }
    }

    [Fact]
    public void RopeRefusesTooFewAngles() =>
        Assert.Throws<ArgumentException>(() => RotaryEmbedding.Apply(new float[64], 64, new float[31], new float[32], RopeStyle.HalfSplit));

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(50)]
    [InlineData(2049)]
    public void SoftmaxMatchesItsDefinition(int n)
    {
        var x = Row(n, n, 0f).Select(v => v * 20).ToArray();
        x[n / 2] = 80f;
        var actual = (float[])x.Clone();
        Softmax.InPlace(actual);
        double max = x.Max();
        double sum = x.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < n; i++) Assert.Equal(Math.Exp(x[i] - max) / sum, actual[i], 1e-6);
        Assert.Equal(1.0, actual.Sum(v => (double)v), 1e-5);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(50432)]
    public void VectorMathMatchesDoublePrecision(int n)
    {
        var x = Row(n, n + 3, 0f).Select(v => v * 30).ToArray();
        float max = x.Length == 0 ? float.NegativeInfinity : x.Max();
        Assert.Equal(max, VectorMath.Max(x));
        var e = new float[n];
        VectorMath.ExpShifted(x, max, e);
        for (int i = 0; i < n; i++) Assert.Equal(Math.Exp(x[i] - max), e[i], 2e-6 * Math.Exp(x[i] - max) + 1e-30);
        if (n == 0) return;
        double reference = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
        Assert.Equal(reference, VectorMath.LogSumExp(x, max, new float[n]), 1e-5);
        x[n / 2] = float.NaN;
        Assert.True(float.IsNaN(VectorMath.Max(x)));
    }
}
