namespace Dclm.Inference.Tests;

public class TokenLogprobsTests
{
    private static double[] LogSoftmax(float[] logits)
    {
        double max = logits.Max();
        double log = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
        return logits.Select(l => l - log).ToArray();
    }

    [Theory]
    [InlineData(7, 3)]
    [InlineData(1000, 5)]
    [InlineData(50432, 20)]
    public void MatchesADoublePrecisionLogSoftmaxAndItsBestTokens(int vocabulary, int top)
    {
        var random = new Random(vocabulary);
        var logits = Enumerable.Range(0, vocabulary).Select(_ => (random.NextSingle() - 0.5f) * 30).ToArray();
        logits[vocabulary / 2] = logits.Max(); // a tie for the best: the lower id comes first
        var reference = LogSoftmax(logits);
        var scratch = new float[vocabulary];
        int chosen = random.Next(vocabulary);
        var result = TokenLogprobs.Compute(logits, chosen, top, scratch);
        Assert.Equal(reference[chosen], result.Logprob, 1e-4);
        var expected = Enumerable.Range(0, vocabulary).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(top).ToArray();
        Assert.Equal(expected, result.Top.Select(t => t.TokenId).ToArray());
        foreach (var alternative in result.Top) Assert.Equal(reference[alternative.TokenId], alternative.Logprob, 1e-4);
    }

    [Fact]
    public void ZeroAlternativesGiveOnlyTheChosenTokenAndBadArgumentsAreRefused()
    {
        var result = TokenLogprobs.Compute([0f, 0f], 1, 0, new float[2]);
        Assert.Empty(result.Top);
        Assert.Equal(Math.Log(0.5), result.Logprob, 1e-6);
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenLogprobs.Compute([0f, 0f], 2, 0, new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenLogprobs.Compute([0f, 0f], 0, TokenLogprobs.MaxTop + 1, new float[2]));
    }
}
