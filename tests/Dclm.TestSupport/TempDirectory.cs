namespace Dclm.TestSupport;

/// <summary>
/// A fresh directory under the temp folder, named after the test assembly, deleted when disposed. Test projects that
/// do not reference this project (it brings the inference stack) compile this file in by a link.
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        string owner = typeof(TempDirectory).Assembly.GetName().Name ?? "dclm-tests";
        FullPath = Path.Combine(Path.GetTempPath(), owner + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(FullPath);
    }

    public string FullPath { get; }

    public string File(string name) => Path.Combine(FullPath, name);

    public void Dispose()
    {
        try { Directory.Delete(FullPath, recursive: true); }
        catch (IOException) { }
    }
}
