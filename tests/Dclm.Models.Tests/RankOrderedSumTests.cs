using Dclm.Distributed;
using Dclm.TestSupport;

namespace Dclm.Models.Tests;

/// <summary>The all-reduce tensor parallelism uses: every rank ends with Σ_r values_r added in rank order, whatever the length.</summary>
public class RankOrderedSumTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryRankGetsTheRankOrderedSumForLengthsThatDoNotDivideByTheRanks(int ranks)
    {
        for (int length = 0; length <= 11; length++)
        {
            float[] Values(int rank) => Enumerable.Range(0, length).Select(i => (float)Math.Sin(rank * 31 + i) * (1 + rank)).ToArray();
            var expected = new float[length];
            for (int r = 0; r < ranks; r++)
            {
                var v = Values(r);
                for (int i = 0; i < length; i++) expected[i] += v[i]; // rank 0's + rank 1's + ..., in float
            }
            var sums = ThreadGroup.Run(ranks, group =>
            {
                var values = Values(group.Rank);
                float[] scratch = [];
                RankOrderedSum.Sum(group, values, ref scratch);
                double[] doubles = Values(group.Rank).Select(x => (double)x).ToArray();
                RankOrderedSum.Sum(group, doubles);
                return (values, doubles);
            });
            foreach (var (values, doubles) in sums)
            {
                Assert.Equal(expected, values);
                for (int i = 0; i < length; i++) Assert.Equal(Enumerable.Range(0, ranks).Sum(r => (double)Values(r)[i]), doubles[i], 12);
            }
        }
    }
}
