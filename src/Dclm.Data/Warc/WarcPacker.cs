using System.Text;
using System.Text.Json;
using Dclm.Formats;

namespace Dclm.Data.Warc;

/// <summary>How <see cref="WarcPacker"/> turns each input file into a record.</summary>
public enum PackKind
{
    /// <summary>.html/.htm files become HTTP <c>response</c> records, as a crawler would have stored them.</summary>
    Html,
    /// <summary>.json files with a "text" field become <c>resource</c> records of type text/plain.</summary>
    JsonText,
    /// <summary>.json files whose "text" is a raw e-mail become <c>resource</c> records of type message/rfc822.</summary>
    JsonEmail,
}

/// <summary>Packs a folder of pages or texts into one WARC file (gzip per record for .warc.gz).</summary>
public static class WarcPacker
{
    /// <summary>
    /// Packs every matching file under <paramref name="inputDirectory"/> (sorted by path) into
    /// <paramref name="outputPath"/>; records carry <c>WARC-Dclm-Source: source</c>. Returns the record count.
    /// </summary>
    public static int Pack(string inputDirectory, string outputPath, PackKind kind, string source, string urlPrefix, int limit = int.MaxValue)
    {
        if (!Directory.Exists(inputDirectory)) throw new DirectoryNotFoundException($"{inputDirectory}: folder does not exist");
        var extensions = kind == PackKind.Html ? new[] { ".html", ".htm" } : [".json"];
        var files = Directory.EnumerateFiles(inputDirectory, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(f => (Full: f, Relative: Path.GetRelativePath(inputDirectory, f).Replace('\\', '/')))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        int count = 0;
        var date = new DateTime(2024, 6, 1, 0, 0, 0, DateTimeKind.Utc);
        AtomicFile.Write(outputPath, stream =>
        {
            using var writer = new WarcWriter(new IO.NonClosingStream(stream), gzipPerRecord: outputPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase));
            var extra = new[] { new KeyValuePair<string, string>("WARC-Dclm-Source", source) };
            writer.Write("warcinfo", "", "application/warc-fields", Encoding.UTF8.GetBytes($"software: dclm data pack-warc\r\nsource: {source}\r\n"), date, extra, DeterministicId(source, ""));
            foreach (var (full, relative) in files)
            {
                var uri = urlPrefix.TrimEnd('/') + "/" + relative;
                var id = DeterministicId(source, relative);
                if (kind == PackKind.Html)
                {
                    var body = File.ReadAllBytes(full);
                    var header = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\n\r\n");
                    writer.Write("response", uri, "application/http; msgtype=response", [.. header, .. body], date, extra, id);
                }
                else
                {
                    string? text = ReadJsonText(full);
                    if (text is null) continue;
                    var contentType = kind == PackKind.JsonEmail ? "message/rfc822" : "text/plain; charset=utf-8";
                    writer.Write("resource", uri, contentType, Encoding.UTF8.GetBytes(text), date, extra, id);
                }
                count++;
            }
        });
        return count;
    }

    private static string? ReadJsonText(string path)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                ? text.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A record id derived from source and path so repacking gives identical files.</summary>
    private static string DeterministicId(string source, string relative)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(source + "\0" + relative));
        return $"<urn:uuid:{new Guid(hash.AsSpan(0, 16))}>";
    }
}
