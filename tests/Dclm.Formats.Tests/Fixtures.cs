namespace Dclm.Formats.Tests;

/// <summary>Paths of the committed fixture files and a scratch directory per test.</summary>
internal static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);
}

/// <summary>A fresh directory under the temp folder, deleted when disposed.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        FullPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dclm-formats-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(FullPath);
    }

    public string FullPath { get; }

    public string File(string name) => System.IO.Path.Combine(FullPath, name);

    public void Dispose()
    {
        try { Directory.Delete(FullPath, recursive: true); }
        catch (IOException) { }
    }
}
