using System.Diagnostics;
using Dclm.Formats;

namespace Dclm.Formats.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dclm-atomic-" + Guid.NewGuid().ToString("N"));

    public AtomicFileTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void LeftoversOfLiveWritersStayAndThoseOfFinishedOnesGo()
    {
        using var live = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        using var finished = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        finished.WaitForExit();
        string liveFile = Temporary("part-1.jsonl", live.Id), finishedFile = Temporary("part-2.jsonl", finished.Id);
        string unnamed = Path.Combine(_directory, ".odd.tmp");
        File.WriteAllText(unnamed, "x");
        try
        {
            AtomicFile.RemoveLeftovers(_directory);
            Assert.True(File.Exists(liveFile), "a running writer's temporary file was removed");
            Assert.False(File.Exists(finishedFile));
            Assert.False(File.Exists(unnamed));
        }
        finally { live.Kill(); live.WaitForExit(); }
        AtomicFile.RemoveLeftovers(_directory);
        Assert.False(File.Exists(liveFile));
    }

    [Fact]
    public void WriteReplacesTheTargetWholeAndLeavesNoTemporary()
    {
        string path = Path.Combine(_directory, "a.txt");
        AtomicFile.WriteText(path, "first");
        AtomicFile.WriteText(path, "second");
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Empty(Directory.EnumerateFiles(_directory, ".*.tmp"));
    }

    private string Temporary(string name, int pid)
    {
        string path = Path.Combine(_directory, $".{name}.{pid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(path, "partial");
        return path;
    }
}
