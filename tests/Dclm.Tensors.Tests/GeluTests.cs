using Dclm.Tensors.Ops;

namespace Dclm.Tensors.Tests;

public class GeluTests
{
    // erf by its Maclaurin series, Σ (−1)^n z^(2n+1) / (n! (2n+1)) · 2/√π, summed in double until the terms
    // vanish: a definition independent of the Chebyshev fit under test.
    private static double ErfBySeries(double z)
    {
        double sum = 0, term = z;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -z * z / (n + 1);
        }
        return sum * 2 / Math.Sqrt(Math.PI);
    }

    [Fact]
    public void TheSeriesReferenceMatchesPublishedErfValues()
    {
        // Abramowitz & Stegun, table 7.1.
        Assert.Equal(0.1124629160, ErfBySeries(0.1), 9);
        Assert.Equal(0.5204998778, ErfBySeries(0.5), 9);
        Assert.Equal(0.8427007929, ErfBySeries(1.0), 9);
        Assert.Equal(0.9953222650, ErfBySeries(2.0), 9);
    }

    [Fact]
    public void MatchesTheDefinitionAtEveryLengthAndInPlace()
    {
        var random = new Random(5);
        foreach (int length in Enumerable.Range(0, 40).Concat([255, 256, 257, 1536]))
        {
            var x = Enumerable.Range(0, length).Select(_ => (random.NextSingle() - 0.5f) * 10).ToArray();
            var separate = new float[length];
            Gelu.Apply(x, separate);
            var inPlace = (float[])x.Clone();
            Gelu.Apply(inPlace, inPlace);
            for (int i = 0; i < length; i++)
            {
                double expected = x[i] * 0.5 * (1 + ErfBySeries(x[i] / Math.Sqrt(2)));
                Assert.True(Math.Abs(separate[i] - expected) <= 2e-6 * Math.Abs(expected) + 2e-7, $"n={length} i={i}: {separate[i]} vs {expected}");
                Assert.Equal(separate[i], inPlace[i]);
                Assert.True(Math.Abs(Gelu.Scalar(x[i]) - expected) <= 2e-6 * Math.Abs(expected) + 2e-7);
            }
        }
    }

    [Fact]
    public void FarTailsAreTheIdentityAndZero()
    {
        var result = new float[18];
        var x = Enumerable.Repeat(-50f, 9).Concat(Enumerable.Repeat(50f, 9)).ToArray();
        Gelu.Apply(x, result);
        Assert.All(result.Take(9), v => Assert.Equal(0f, Math.Abs(v)));
        Assert.All(result.Skip(9), v => Assert.Equal(50f, v));
    }
}
