using System.Text;
using System.Text.Json;
using Dclm.Data.Documents;

namespace Dclm.Data.IO;

/// <summary>
/// The pipeline's document line format: <c>{"id","url","source","text"}</c> plus optional
/// <c>language_score</c> and <c>quality_score</c>. Reading also accepts DCLM's own JSONL, where only
/// <c>text</c> is required and the URL may sit in <c>metadata.WARC-Target-URI</c>.
/// </summary>
public static class DocumentJsonl
{
    /// <summary>Writes <paramref name="document"/> as one JSON line.</summary>
    public static void Write(Utf8JsonWriter writer, Document document)
    {
        writer.WriteStartObject();
        writer.WriteString("id", document.Id);
        writer.WriteString("url", document.Url);
        writer.WriteString("source", document.Source);
        writer.WriteString("text", document.Text);
        if (document.LanguageScore is { } language) writer.WriteNumber("language_score", Math.Round(language, 6));
        if (document.QualityScore is { } quality) writer.WriteNumber("quality_score", Math.Round(quality, 6));
        if (document.ContaminatedBy is { } task) writer.WriteString("contaminated_by", task);
        writer.WriteEndObject();
    }

    /// <summary>Writes all documents, one per line, to <paramref name="stream"/>.</summary>
    public static void WriteAll(Stream stream, IEnumerable<Document> documents)
    {
        var options = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using var buffered = new BufferedStream(stream, 1 << 16);
        foreach (var document in documents)
        {
            using (var writer = new Utf8JsonWriter(buffered, options)) Write(writer, document);
            buffered.WriteByte((byte)'\n');
        }
    }

    /// <summary>
    /// Parses one line; <paramref name="fallbackId"/> and <paramref name="fallbackSource"/> fill missing fields.
    /// Throws <see cref="InvalidDataException"/> naming <paramref name="fileName"/> for malformed lines.
    /// </summary>
    public static Document Parse(string line, string fileName, long lineNumber, string fallbackId, string fallbackSource)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{fileName}:{lineNumber}: expected a JSON object with a string \"text\" field");
            string id = StringField(root, "id") ?? fallbackId;
            string url = StringField(root, "url")
                ?? (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object ? StringField(metadata, "WARC-Target-URI") : null)
                ?? "";
            string source = StringField(root, "source") ?? fallbackSource;
            var document = new Document(id, url, source, text.GetString()!);
            if (root.TryGetProperty("language_score", out var language) && language.ValueKind == JsonValueKind.Number) document.LanguageScore = language.GetDouble();
            if (root.TryGetProperty("quality_score", out var quality) && quality.ValueKind == JsonValueKind.Number) document.QualityScore = quality.GetDouble();
            if (root.TryGetProperty("contaminated_by", out var task) && task.ValueKind == JsonValueKind.String) document.ContaminatedBy = task.GetString();
            return document;
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{fileName}:{lineNumber}: invalid JSON ({error.Message.Split('.')[0]})");
        }
        catch (InvalidOperationException)
        {
            // A string field with an unpaired surrogate escape ("\ud800"): valid JSON grammar, but not text.
            throw new InvalidDataException($"{fileName}:{lineNumber}: a string holds an unpaired UTF-16 surrogate escape, which is not text");
        }
    }

    /// <summary>Reads every document of a JSONL file (plain, .gz or .zst).</summary>
    public static IEnumerable<Document> ReadFile(string path, string source)
    {
        using var stream = CompressedFile.OpenRead(path);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        long lineNumber = 0;
        string? line;
        var name = Path.GetFileName(path);
        while ((line = ReadLineChecked(reader, path)) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            yield return Parse(line, path, lineNumber, $"{name}:{lineNumber}", source);
        }
    }

    private static string? ReadLineChecked(StreamReader reader, string path)
    {
        try { return reader.ReadLine(); }
        catch (Exception error) when (error is InvalidDataException or IOException or ZstdSharp.ZstdException)
        {
            throw new InvalidDataException($"{path}: corrupt or truncated compressed data ({error.Message})");
        }
    }

    private static string? StringField(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
