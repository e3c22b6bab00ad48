using Dclm.Benchmarks;
using Dclm.Tensors.Compute;

namespace Dclm.Cli.Tests;

/// <summary>The bench's bandwidth probe reads its whole buffer exactly once per pass, however many threads split it.</summary>
public sealed class MemoryBandwidthTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryPassReadsEachByteOnce(int threads)
    {
        // 1 MiB + 256 bytes: the threads' spans do not divide it evenly, so the last one takes the rest.
        using var probe = new MemoryBandwidth((1L << 20) + 256);
        using var pool = new ComputePool(threads);
        long expected = unchecked(probe.Bytes / 8 * 0x0101010101010101L);
        // One pass runs the prefetching loop, two end with the plain one.
        foreach (int passes in new[] { 1, 2 })
        {
            double rate = probe.Measure(pool, passes);
            Assert.True(double.IsFinite(rate) && rate > 0, $"rate {rate}");
            Assert.Equal(expected, probe.LastChecksum);
        }
    }
}
