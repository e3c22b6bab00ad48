using Dclm.Tensors.Ops;

namespace Dclm.Tensors.Tests;

public class SwiGluTests
{
    [Fact]
    public void MatchesTheDefinitionAtEveryLengthAndInPlace()
    {
        var random = new Random(17);
        foreach (int length in Enumerable.Range(0, 40).Concat([255, 256, 257, 600, 11008]))
        {
            var gate = Enumerable.Range(0, length).Select(_ => (random.NextSingle() - 0.5f) * 24).ToArray();
            var up = Enumerable.Range(0, length).Select(_ => (random.NextSingle() - 0.5f) * 4).ToArray();
            var expected = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
            var separate = new float[length];
            SwiGlu.Apply(gate, up, separate);
            var inPlace = (float[])gate.Clone();
            SwiGlu.Apply(inPlace, up, inPlace);
            for (int i = 0; i < length; i++)
            {
                double tolerance = 1e-6 * Math.Abs(expected[i]) + 1e-7;
                Assert.True(Math.Abs(separate[i] - expected[i]) <= tolerance, $"n={length} i={i}: {separate[i]} vs {expected[i]}");
                Assert.Equal(separate[i], inPlace[i]);
            }
        }
    }

    [Fact]
    public void LargeNegativeGatesGiveZeroNotNaN()
    {
        var result = new float[3];
        SwiGlu.Apply([-1000f, -90f, 1000f], [1f, 1f, 2f], result);
        Assert.Equal([0f, 0f, 2000f], result.Select(v => v == 0 ? 0f : v).ToArray());
        Assert.DoesNotContain(result, float.IsNaN);
    }
}
