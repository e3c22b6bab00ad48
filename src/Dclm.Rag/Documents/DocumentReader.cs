using System.Text;
using System.Text.Json;
using Dclm.Data.Extraction;

namespace Dclm.Rag.Documents;

/// <summary>
/// Finds the files under the inputs a user names and reads each into documents: plain text and Markdown
/// as they are, HTML through the data pipeline's main-content extractor, JSONL one document per line
/// (<c>{"text": ..., "id"?: ...}</c>, other fields ignored), PDF through PdfPig (<see cref="PdfText"/>).
/// Text must be UTF-8.
/// </summary>
public static class DocumentReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>File name endings read, lower case.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        { ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".jsonl", ".pdf" };

    /// <summary>
    /// Every readable file named by <paramref name="inputs"/>: files as given, folders searched recursively
    /// for files with a known ending (hidden ones skipped), as full paths, sorted, without duplicates.
    /// An input that does not exist throws <see cref="FileNotFoundException"/> naming it.
    /// </summary>
    public static IReadOnlyList<string> ExpandInputs(IEnumerable<string> inputs)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                foreach (var file in Directory.EnumerateFiles(input, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = FileAttributes.Hidden }))
                    if (Extensions.Contains(Path.GetExtension(file))) files.Add(Path.GetFullPath(file));
            }
            else if (File.Exists(input)) files.Add(Path.GetFullPath(input));
            else throw new FileNotFoundException($"input {input} does not exist", input);
        }
        return files.ToList();
    }

    /// <summary>
    /// The documents in <paramref name="path"/>. A file that cannot be read (permissions, not UTF-8, a bad
    /// JSONL line, an unknown ending) throws <see cref="InvalidDataException"/> or <see cref="IOException"/>
    /// whose message names the file.
    /// </summary>
    public static IReadOnlyList<SourceDocument> Read(string path, HtmlTextExtractor? extractor = null)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(extension)) throw new InvalidDataException($"{path}: unsupported file type \"{extension}\" (read: {string.Join(", ", Extensions)})");
        if (extension == ".pdf") return [new SourceDocument(path, path, PdfText.Read(path))];
        string text;
        try
        {
            text = StrictUtf8.GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: not UTF-8 text");
        }
        catch (UnauthorizedAccessException error)
        {
            throw new IOException($"{path}: cannot be read ({error.Message})", error);
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        return extension switch
        {
            ".html" or ".htm" => [new SourceDocument(path, path, (extractor ?? new HtmlTextExtractor()).Extract(text))],
            ".jsonl" => ReadJsonLines(path, text),
            _ => [new SourceDocument(path, path, text)],
        };
    }

    private static List<SourceDocument> ReadJsonLines(string path, string text)
    {
        var documents = new List<SourceDocument>();
        int lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            try
            {
                using var record = JsonDocument.Parse(line);
                var root = record.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var body) || body.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}: line {lineNumber}: expected an object with a string \"text\"");
                string source = root.TryGetProperty("id", out var id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number
                    ? (id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText())
                    : $"{path}#{lineNumber}";
                documents.Add(new SourceDocument(source, path, body.GetString()!));
            }
            catch (JsonException error)
            {
                throw new InvalidDataException($"{path}: line {lineNumber}: not JSON ({error.Message})", error);
            }
        }
        return documents;
    }
}
