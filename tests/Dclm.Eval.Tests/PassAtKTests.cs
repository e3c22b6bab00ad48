using System.Numerics;
using Dclm.Eval.Code;

namespace Dclm.Eval.Tests;

public sealed class PassAtKTests
{
    /// <summary>The textbook form, with exact big-integer binomials.</summary>
    private static double Exact(int n, int c, int k)
    {
        static BigInteger Choose(int n, int k)
        {
            if (k < 0 || k > n) return BigInteger.Zero;
            BigInteger result = BigInteger.One;
            for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;
            return result;
        }
        var numerator = Choose(n - c, k);
        var denominator = Choose(n, k);
        // 1 - C(n-c,k)/C(n,k), the ratio taken in decimal to keep precision for large n.
        return 1.0 - (double)(decimal)numerator / (double)(decimal)denominator;
    }

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(1, 1, 1)]
    [InlineData(10, 3, 1)]
    [InlineData(10, 3, 5)]
    [InlineData(10, 8, 5)]
    [InlineData(20, 0, 10)]
    [InlineData(20, 20, 10)]
    [InlineData(50, 7, 10)]
    [InlineData(100, 1, 1)]
    [InlineData(100, 37, 10)]
    public void MatchesTheBinomialFormula(int n, int c, int k)
    {
        Assert.Equal(Exact(n, c, k), PassAtK.Estimate(n, c, k), 12);
    }

    [Fact]
    public void PassAtOneIsTheFractionPassed()
    {
        for (int n = 1; n <= 30; n++)
            for (int c = 0; c <= n; c++)
                Assert.Equal((double)c / n, PassAtK.Estimate(n, c, 1), 12);
    }

    [Fact]
    public void LargeCountsStayFinite()
    {
        // C(1000, 500) overflows double; the product form does not.
        double value = PassAtK.Estimate(1000, 3, 500);
        Assert.Equal(1 - (500.0 / 1000) * (499.0 / 999) * (498.0 / 998), value, 12);
    }

    [Fact]
    public void RejectsImpossibleCounts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(5, 6, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(5, 2, 6));
    }
}
