using Dclm.Data.Documents;
using Dclm.Data.IO;

namespace Dclm.Data.Tests;

/// <summary>Paths and loaders for the committed sample corpora (see fixtures/README.md).</summary>
internal static class Fixtures
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string PathOf(string name) => Path.Combine(Directory, name);

    public static List<Document> Read(string name) => DocumentJsonl.ReadFile(PathOf(name), Path.GetFileNameWithoutExtension(name)).ToList();

    public static string TemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "dclm-data-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    public static Document Doc(string text) => new("t", "", "test", text);

    /// <summary>English filler sentence with ordinary word lengths and stop words.</summary>
    public static string Sentence(int i) =>
        $"The committee of the town met on day {i} and agreed that the new library would be open with longer hours for readers.";

    public static string Sentences(int count, int offset = 0) => string.Join(' ', Enumerable.Range(offset, count).Select(Sentence));
}
