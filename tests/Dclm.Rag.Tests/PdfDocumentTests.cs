using Dclm.Rag.Documents;

namespace Dclm.Rag.Tests;

/// <summary>
/// PDF input. The fixture was printed by Chromium (<c>chromium --headless --print-to-pdf=returns.pdf page.html</c>,
/// both files in fixtures/), so the reader meets a PDF another program wrote: the page's sentences must come back
/// in reading order, with the non-ASCII letter intact.
/// </summary>
public class PdfDocumentTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    [Fact]
    public void APdfPrintedByChromiumReadsAsItsPagesText()
    {
        var documents = DocumentReader.Read(Fixture("returns.pdf"));
        var document = Assert.Single(documents);
        string text = string.Join(' ', document.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        string[] expected =
        [
            "Returns policy",
            "Customers may return any unopened item within 30 days of delivery for a full refund.",
            "Opened electronics can be exchanged within 14 days if they are faulty.",
            "Shipping",
            "Standard shipping to Zürich takes three to five working days.",
        ];
        int at = 0;
        foreach (var sentence in expected)
        {
            int found = text.IndexOf(sentence, at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"\"{sentence}\" not found in order in: {text}");
            at = found + sentence.Length;
        }
    }

    [Fact]
    public void FoldersIncludePdfFiles()
    {
        string directory = Directory.CreateTempSubdirectory("dclm-pdf-").FullName;
        try
        {
            File.Copy(Fixture("returns.pdf"), Path.Combine(directory, "returns.pdf"));
            File.WriteAllText(Path.Combine(directory, "notes.txt"), "plain");
            var files = DocumentReader.ExpandInputs([directory]);
            Assert.Equal(new[] { "notes.txt", "returns.pdf" }, files.Select(f => Path.GetFileName(f)).ToArray());
        }
        finally { Directory.Delete(directory, true); }
    }

    [Fact]
    public void ADamagedPdfIsAnErrorNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dclm-damaged-{Guid.NewGuid():N}.pdf");
        var bytes = File.ReadAllBytes(Fixture("returns.pdf"));
        File.WriteAllBytes(path, bytes.AsSpan(0, 300).ToArray());
        try
        {
            var error = Assert.ThrowsAny<Exception>(() => DocumentReader.Read(path));
            Assert.True(error is InvalidDataException or IOException, error.GetType().Name);
            Assert.Contains(path, error.Message);
        }
        finally { File.Delete(path); }
    }
}
