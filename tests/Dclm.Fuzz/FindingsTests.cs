namespace Dclm.Fuzz;

/// <summary>
/// The inputs the fuzzer found defects with, kept as they were found (findings/TARGET.what.bin) and replayed
/// through their target: each must now be accepted or refused cleanly, within bounded memory.
/// </summary>
public sealed class FindingsTests
{
    public static TheoryData<string> Findings => [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "findings"), "*.bin").Select(path => Path.GetFileName(path)!).Order()];

    [Theory]
    [MemberData(nameof(Findings))]
    public void AFindingIsNowHandledCleanly(string file)
    {
        // warc.charset-utf7: a page declaring charset=utf-7 threw NotSupportedException out of the WARC reader's decoding.
        // warc.content-length-256mib: a record claiming Content-Length 268435455 in a 1 kB file allocated 256 MiB before reading.
        // safetensors.lone-surrogate-*: a "\ud800" escape in a header name or dtype escaped as an InvalidOperationException.
        string target = file[..file.IndexOf('.')];
        byte[] input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "findings", file));
        using var fuzzed = Program.Create(target, Path.Combine(AppContext.BaseDirectory, "seeds"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        fuzzed.Run(input, CancellationToken.None);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20);
    }
}
