using Dclm.Inference;

namespace Dclm.Server.Tests;

/// <summary>The per-token measurements against their definitions, computed directly in double.</summary>
public sealed class OutputStabilityMeterTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 3)]
    [InlineData(33, 32)]
    [InlineData(50432, 1234)]
    public void LogprobAndEntropyMatchTheirDefinitions(int vocabulary, int chosen)
    {
        var random = new Random(vocabulary);
        var logits = Enumerable.Range(0, vocabulary).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
        double entropy = 0;
        foreach (float l in logits)
        {
            double p = Math.Exp(l - max) / z;
            if (p > 0) entropy -= p * Math.Log(p);
        }
        double logprob = logits[chosen] - max - Math.Log(z);
        var (measuredLogprob, measuredEntropy) = OutputStabilityMeter.Measure(logits, chosen, new float[vocabulary]);
        Assert.Equal(logprob, measuredLogprob, 4);
        Assert.Equal(entropy, measuredEntropy, 3);
    }

    [Fact]
    public void RepetitionIsTheShareOfRepeatedFourGrams()
    {
        Assert.Equal(0, OutputStability.Repetition([1, 2, 3]));
        Assert.Equal(0, OutputStability.Repetition([1, 2, 3, 4, 5, 6]));
        Assert.Equal(1 - 1 / 5.0, OutputStability.Repetition([7, 7, 7, 7, 7, 7, 7, 7])); // 5 grams, 1 distinct
        Assert.Equal(1 - 2 / 5.0, OutputStability.Repetition([1, 2, 1, 2, 1, 2, 1, 2])); // (1212), (2121)
        Assert.Equal(1 - 6 / 7.0, OutputStability.Repetition([1, 2, 3, 4, 5, 6, 1, 2, 3], n: 3), 12); // 7 trigrams, (123) twice
    }
}
