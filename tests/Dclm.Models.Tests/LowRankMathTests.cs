using Dclm.Models.Adapters;

namespace Dclm.Models.Tests;

/// <summary>
/// <see cref="LowRankMath.ChainedDot"/> (eight chains of fma, a fixed tree), the order the GPU backend's adapter kernel
/// follows: its vector form against the definition written out scalar, bit for bit at every length 0..70 (every tail),
/// and against a float64 dot within the error bound of a float sum.
/// </summary>
public sealed class LowRankMathTests
{
    [Fact]
    public void ChainedDotIsItsDefinitionAtEveryLength()
    {
        var random = new Random(7);
        for (int length = 0; length <= 70; length++)
        {
            float[] a = Values(random, length), x = Values(random, length);
            var chains = new float[8];
            for (int i = 0; i < length; i++) chains[i % 8] = MathF.FusedMultiplyAdd(a[i], x[i], chains[i % 8]);
            float definition = ((chains[0] + chains[4]) + (chains[2] + chains[6])) + ((chains[1] + chains[5]) + (chains[3] + chains[7]));
            float dot = LowRankMath.ChainedDot(a, x);
            Assert.True(BitConverter.SingleToInt32Bits(definition) == BitConverter.SingleToInt32Bits(dot), $"length {length}: {dot:R} vs {definition:R}");
            double exact = 0, magnitude = 0;
            for (int i = 0; i < length; i++)
            {
                exact += (double)a[i] * x[i];
                magnitude += Math.Abs((double)a[i] * x[i]);
            }
            Assert.True(Math.Abs(dot - exact) <= (length + 1) * 6e-8 * magnitude + 1e-30, $"length {length}: {dot} vs {exact}");
        }
    }

    private static float[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => 2 * random.NextSingle() - 1).ToArray();
}
