using Dclm.Data.Documents;
using Dclm.Data.IO;
using Dclm.Data.Warc;

namespace Dclm.Data.Inputs;

/// <summary>Reads the documents of one <see cref="InputUnit"/>, marking HTML pages for extraction.</summary>
public static class InputUnitReader
{
    /// <summary>Largest HTML file read; bigger files are skipped as they are almost never real pages.</summary>
    public const long MaximumHtmlFileBytes = 32L << 20;

    /// <summary>Documents of <paramref name="unit"/> in file order.</summary>
    public static IEnumerable<Document> Read(InputUnit unit)
    {
        for (int i = 0; i < unit.Files.Count; i++)
        {
            var documents = unit.Kind switch
            {
                InputKind.Warc => ReadWarc(unit.Files[i], unit.Source),
                InputKind.Jsonl => DocumentJsonl.ReadFile(unit.Files[i], unit.Source),
                _ => ReadHtmlFile(unit.Files[i], unit.RelativePaths[i], unit.Source),
            };
            foreach (var document in documents) yield return document;
        }
    }

    private static IEnumerable<Document> ReadHtmlFile(string path, string relativePath, string source)
    {
        if (new FileInfo(path).Length > MaximumHtmlFileBytes) yield break;
        var bytes = File.ReadAllBytes(path);
        var text = HttpResponse.Decode(bytes, "");
        yield return new Document(relativePath, "file:///" + relativePath, source, text) { IsHtml = true };
    }

    private static IEnumerable<Document> ReadWarc(string path, string source)
    {
        using var reader = WarcReader.Open(path);
        while (reader.Next() is { } record)
        {
            var document = ToDocument(record, source);
            if (document is not null) yield return document;
        }
    }

    /// <summary>Converts a response, resource or conversion record into a document; other records yield null.</summary>
    public static Document? ToDocument(WarcRecord record, string source)
    {
        var recordSource = record["WARC-Dclm-Source"] ?? source;
        switch (record.Type)
        {
            case "response":
                var response = HttpResponse.Parse(record.Block);
                if (response is null || response.StatusCode != 200) return null;
                bool html = response.ContentType.Contains("html", StringComparison.OrdinalIgnoreCase);
                bool text = response.ContentType.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase);
                if (!html && !text) return null;
                return new Document(record.RecordId, record.TargetUri, recordSource, response.Body) { IsHtml = html };
            case "resource":
            case "conversion":
                var contentType = record["Content-Type"] ?? "";
                var body = HttpResponse.Decode(record.Block, contentType);
                if (contentType.StartsWith("message/rfc822", StringComparison.OrdinalIgnoreCase))
                {
                    var (mailText, isHtml) = EmailMessage.ExtractBody(body);
                    return new Document(record.RecordId, record.TargetUri, recordSource, mailText) { IsHtml = isHtml };
                }
                if (contentType.Contains("html", StringComparison.OrdinalIgnoreCase))
                    return new Document(record.RecordId, record.TargetUri, recordSource, body) { IsHtml = true };
                if (contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase) || record.Type == "conversion")
                    return new Document(record.RecordId, record.TargetUri, recordSource, body);
                return null;
            default:
                return null;
        }
    }
}
