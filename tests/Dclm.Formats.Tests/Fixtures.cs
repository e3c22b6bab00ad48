namespace Dclm.Formats.Tests;

/// <summary>Paths of the committed fixture files (a scratch directory per test is a <see cref="TempDirectory"/>).</summary>
internal static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);
}
