using Xunit.Abstractions;

namespace Dclm.Fuzz;

/// <summary>
/// The fuzzing program's short deterministic run: the first cases of every target (seed 23, the long run's
/// seed), each of which must be accepted or refused cleanly, with no hang and no case allocating without bound.
/// Timings are reported, not asserted; the long run and its figures are in docs/hardening.md.
/// </summary>
public sealed class ShortRunTests(ITestOutputHelper output)
{
    /// <summary>No single case may allocate more than this (the inputs are a few kilobytes).</summary>
    private const long AllocationLimit = 512L << 20;

    [Theory]
    [InlineData("gguf", 300)]
    [InlineData("safetensors", 300)]
    [InlineData("tokenizer-json", 200)]
    [InlineData("warc", 300)]
    [InlineData("jsonl-zst", 300)]
    [InlineData("jinja", 300)]
    [InlineData("http", 150)]
    public void EveryCaseIsAcceptedOrRefusedCleanly(string target, int cases)
    {
        using var fuzzed = Program.Create(target, Path.Combine(AppContext.BaseDirectory, "seeds"));
        var runner = new FuzzRunner(timeLimit: TimeSpan.FromSeconds(2), hangLimit: TimeSpan.FromSeconds(60));
        var report = runner.Run(fuzzed, cases, seed: 23);
        var text = new StringWriter();
        Program.Print(report, text);
        output.WriteLine(text.ToString());
        Assert.True(report.Unexpected.Count == 0, text.ToString());
        Assert.True(report.Hangs.Count == 0, text.ToString());
        Assert.True(report.LargestAllocation < AllocationLimit, text.ToString());
        // A fuzzer whose mutations are all refused, or all accepted, says little.
        Assert.True(report.Refused > 0, text.ToString());
        Assert.True(report.Accepted > 0 || target is "gguf" or "safetensors", text.ToString());
    }
}
