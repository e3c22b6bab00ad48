namespace Dclm.Models.Tests;

public class AttentionBlockTests
{
    [Theory]
    [InlineData(16, 16)]
    [InlineData(32, 128)]
    [InlineData(128, 4096)]
    public void SixteenScoresAtOnceMatchEachDotProduct(int headDim, int stride)
    {
        if (!AttentionBlocks.Supports(headDim)) return;
        var random = new Random(headDim);
        var query = Enumerable.Range(0, headDim).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var keys = Enumerable.Range(0, 15 * stride + headDim).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var scores = new float[16];
        AttentionBlocks.Scores(query, keys, stride, headDim, scores);
        for (int i = 0; i < 16; i++)
        {
            double expected = 0, magnitude = 0;
            for (int c = 0; c < headDim; c++)
            {
                expected += (double)query[c] * keys[i * stride + c];
                magnitude += Math.Abs((double)query[c] * keys[i * stride + c]);
            }
            Assert.True(Math.Abs(scores[i] - expected) <= 1e-6 * magnitude, $"position {i}: {scores[i]} vs {expected}");
        }
    }

    [Fact]
    public void WeightedValuesEqualAddingThemOneByOne()
    {
        if (!AttentionBlocks.Supports(32)) return;
        var random = new Random(3);
        const int headDim = 32, stride = 96, count = 13;
        var values = Enumerable.Range(0, (count - 1) * stride + headDim).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var weights = Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray();
        var start = Enumerable.Range(0, headDim).Select(_ => random.NextSingle()).ToArray();
        var expected = (float[])start.Clone();
        for (int i = 0; i < count; i++)
            for (int c = 0; c < headDim; c++) expected[c] = MathF.FusedMultiplyAdd(values[i * stride + c], weights[i], expected[c]);
        var output = (float[])start.Clone();
        AttentionBlocks.AddWeighted(values, stride, count, headDim, weights, output);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void Int8KeysAndValuesWidenExactly()
    {
        if (!AttentionBlocks.Supports(64)) return;
        var random = new Random(8);
        const int headDim = 64, stride = 256, count = 11;
        var query = Enumerable.Range(0, headDim).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var keys = Enumerable.Range(0, 15 * stride + headDim).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var scores = new float[16];
        AttentionBlocks.Scores(query, keys, stride, headDim, scores);
        var widened = keys.Select(k => (float)k).ToArray();
        var reference = new float[16];
        AttentionBlocks.Scores(query, widened, stride, headDim, reference);
        Assert.Equal(reference, scores);
        for (int i = 0; i < 16; i++)
        {
            double exact = Enumerable.Range(0, headDim).Sum(c => (double)query[c] * keys[i * stride + c]);
            Assert.Equal(exact, AttentionBlocks.Dot(query, keys.AsSpan(i * stride, headDim)), 1e-3);
        }

        var weights = Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray();
        var output = new float[headDim];
        var expected = new float[headDim];
        AttentionBlocks.AddWeighted(keys, stride, count, headDim, weights, output);
        AttentionBlocks.AddWeighted(widened, stride, count, headDim, weights, expected);
        Assert.Equal(expected, output);
    }
}
