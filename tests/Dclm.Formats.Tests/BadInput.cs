namespace Dclm.Formats.Tests;

/// <summary>Opens a corrupt file and checks the failure is a one-line ModelFileException naming it, with bounded allocation.</summary>
internal static class BadInput
{
    /// <summary>A parse of a small corrupt file must never allocate more than this (a lying count would allocate gigabytes).</summary>
    public const long AllocationLimit = 32 << 20;

    /// <summary>Returns the exception, or null when the file opened (a mutation may leave it valid).</summary>
    public static ModelFileException? TryOpen(string path, Func<string, IDisposable> open)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        ModelFileException? error = null;
        try
        {
            open(path).Dispose();
        }
        catch (ModelFileException caught)
        {
            error = caught;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < AllocationLimit, $"opening {path} allocated {allocated} bytes");
        if (error is not null)
        {
            // A checkpoint directory's errors name the file inside it that is wrong.
            Assert.StartsWith(path, error.FilePath);
            Assert.StartsWith(error.FilePath + ": ", error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }
        return error;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> and expects a failure mentioning <paramref name="fragment"/>.</summary>
    public static ModelFileException Expect(string path, byte[] bytes, Func<string, IDisposable> open, string fragment)
    {
        File.WriteAllBytes(path, bytes);
        ModelFileException? error = TryOpen(path, open);
        Assert.True(error is not null, $"expected '{fragment}', but the file opened");
        Assert.Contains(fragment, error!.Message);
        return error;
    }
}
