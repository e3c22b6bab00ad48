using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;

namespace Dclm.Rag.Documents;

/// <summary>
/// The text of a PDF through PdfPig: each page's words in reading order (PdfPig's content-order extractor),
/// pages separated by a blank line. A PDF that is encrypted, damaged or holds no text (a scan) is an
/// <see cref="InvalidDataException"/> naming the file.
/// </summary>
internal static class PdfText
{
    public static string Read(string path)
    {
        try
        {
            using var document = PdfDocument.Open(path);
            var pages = document.GetPages().Select(page => ContentOrderTextExtractor.GetText(page).Trim()).Where(text => text.Length > 0).ToList();
            if (pages.Count == 0) throw new InvalidDataException($"{path}: the PDF holds no text (a scanned document needs OCR first)");
            return string.Join("\n\n", pages);
        }
        catch (InvalidDataException) { throw; }
        catch (UnauthorizedAccessException error) { throw new IOException($"{path}: cannot be read ({error.Message})", error); }
        catch (IOException) { throw; }
        catch (Exception error)
        {
            // PdfPig reports damaged or encrypted files with its own exception types.
            throw new InvalidDataException($"{path}: not a readable PDF ({error.Message})", error);
        }
    }
}
