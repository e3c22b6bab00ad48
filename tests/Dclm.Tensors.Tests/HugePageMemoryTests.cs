using Dclm.Tensors.Compute;

namespace Dclm.Tensors.Tests;

public unsafe class HugePageMemoryTests
{
    /// <summary>The block is zeroed, writable to its last byte, 2 MB aligned on Linux, and counts at most its own huge pages.</summary>
    [Theory]
    [InlineData(1, true)]
    [InlineData((2 << 20) + 1, false)]
    [InlineData(5 << 20, true)]
    public void BlockIsZeroedWritableAndAligned(long bytes, bool populate)
    {
        using var memory = HugePageMemory.Allocate(bytes, populate);
        Assert.Equal(bytes, memory.ByteLength);
        if (OperatingSystem.IsLinux()) Assert.Equal(0, (long)memory.Pointer % (2 << 20));
        if (!populate) memory.Populate(0, bytes);
        var span = new Span<byte>(memory.Pointer, (int)bytes);
        Assert.True(span.IndexOfAnyExcept((byte)0) < 0, "fresh memory is not zero");
        span.Fill(0xA5);
        Assert.Equal(0xA5, memory.Pointer[bytes - 1]);
        long rounded = (bytes + (2 << 20) - 1) & ~((2L << 20) - 1);
        Assert.InRange(memory.HugePageBytes(), 0, rounded);
    }

    /// <summary>
    /// Where Linux says transparent huge pages are on (always or madvise), the advice is taken and a populated
    /// 8 MB block reports huge pages in /proc/self/smaps (Linux may still refuse when memory is fragmented,
    /// so this asks only for one of its four 2 MB pages).
    /// </summary>
    [Fact]
    public void LinuxBacksAdvisedBlocksWithHugePages()
    {
        const string setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (!OperatingSystem.IsLinux() || !File.Exists(setting) || File.ReadAllText(setting).Contains("[never]")) return;
        using var memory = HugePageMemory.Allocate(8 << 20);
        Assert.True(memory.HugePagesAdvised);
        Assert.InRange(memory.HugePageBytes(), 2 << 20, 8 << 20);
    }

    [Fact]
    public void PopulateRefusesRangesOutsideTheBlock()
    {
        using var memory = HugePageMemory.Allocate(4096, populate: false);
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.Populate(0, 4097));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.Populate(-1, 1));
        memory.Populate(4095, 1);
    }
}
