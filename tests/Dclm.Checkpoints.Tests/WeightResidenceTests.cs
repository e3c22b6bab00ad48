using Dclm.Checkpoints;
using Dclm.Formats;

namespace Dclm.Checkpoints.Tests;

/// <summary>The automatic choice between copying the weights into memory and mapping them.</summary>
public class WeightResidenceTests
{
    private const long GB = 1L << 30;

    [Theory]
    // 24 GB machine (1.5 GB headroom): 4 GB of weights copy with 20 GB free, map with 5 GB free.
    [InlineData(4 * GB, 20 * GB, 24 * GB, FileResidence.Copied)]
    [InlineData(4 * GB, 5 * GB, 24 * GB, FileResidence.Mapped)]
    [InlineData(4 * GB, (4 * GB) + (3 * GB / 2), 24 * GB, FileResidence.Copied)]
    [InlineData(4 * GB, (4 * GB) + (3 * GB / 2) - 1, 24 * GB, FileResidence.Mapped)]
    // A small machine keeps at least 1 GB to spare.
    [InlineData(GB, 2 * GB, 4 * GB, FileResidence.Copied)]
    [InlineData(GB, 2 * GB - 1, 4 * GB, FileResidence.Mapped)]
    public void AutomaticCopiesWhatFitsWithHeadroom(long weights, long available, long total, FileResidence expected)
    {
        var (residence, reason) = WeightResidence.Choose(weights, new AvailableMemory(available, total, "test"), WeightLoading.Automatic);
        Assert.Equal(expected, residence);
        Assert.Contains("available (test)", reason);
    }

    [Fact]
    public void AskingOverridesTheMemoryCheck()
    {
        var none = new AvailableMemory(0, 0, "test");
        Assert.Equal((FileResidence.Copied, "asked for"), WeightResidence.Choose(100 * GB, none, WeightLoading.Copied));
        Assert.Equal((FileResidence.Mapped, "asked for"), WeightResidence.Choose(1, new AvailableMemory(100 * GB, 100 * GB, "test"), WeightLoading.Mapped));
    }

    /// <summary>On Linux the figures agree with /proc/meminfo: available at most MemAvailable, total at most MemTotal.</summary>
    [Fact]
    public void AvailableMemoryIsBoundedByTheSystem()
    {
        var memory = AvailableMemory.Read();
        Assert.InRange(memory.AvailableBytes, 1, memory.TotalBytes);
        if (!OperatingSystem.IsLinux()) return;
        var meminfo = File.ReadLines("/proc/meminfo").ToDictionary(l => l[..l.IndexOf(':')], l => long.Parse(l[(l.IndexOf(':') + 1)..].Trim().Split(' ')[0]) * 1024);
        Assert.True(memory.TotalBytes <= meminfo["MemTotal"]);
        // MemAvailable moves while other processes run; allow it a little.
        Assert.True(memory.AvailableBytes <= meminfo["MemAvailable"] + (256L << 20), $"{memory.AvailableBytes} above MemAvailable {meminfo["MemAvailable"]}");
    }

    [Fact]
    public void DescriptionsSayWhereTheWeightsAreAndWhy()
    {
        var copied = new WeightResidence(FileResidence.Copied, 3_880_000_000, 3_880_000_000, TimeSpan.FromSeconds(1.3), "3.88 GB of weights ...");
        Assert.Equal("weights copied into memory: 3.88 GB in 1.3 s, 100% in 2 MB pages (3.88 GB of weights ...)", copied.Describe());
        Assert.StartsWith("weights mapped from the file, as asked", new WeightResidence(FileResidence.Mapped, 1, 0, TimeSpan.Zero, "asked for").Describe());
        Assert.Contains("decode may run far below", new WeightResidence(FileResidence.Mapped, 1, 0, TimeSpan.Zero, "x: not enough to copy").Describe());
    }
}
