using System.IO.Compression;
using System.Text;

namespace Dclm.Data.Warc;

/// <summary>
/// Writes WARC/1.1 records. For <c>.warc.gz</c> each record is its own gzip member, as Common Crawl does, so
/// readers can seek to any record and a truncated file loses only its last record.
/// </summary>
public sealed class WarcWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _gzipPerRecord;

    /// <summary>Writes to <paramref name="stream"/>; <paramref name="gzipPerRecord"/> compresses each record separately.</summary>
    public WarcWriter(Stream stream, bool gzipPerRecord)
    {
        _stream = stream;
        _gzipPerRecord = gzipPerRecord;
    }

    /// <summary>Writes a record with the given type, target URI and block; returns its record id.</summary>
    public string Write(string type, string targetUri, string contentType, byte[] block, DateTime date, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null, string? recordId = null)
    {
        recordId ??= $"<urn:uuid:{Guid.NewGuid()}>";
        var header = new StringBuilder();
        header.Append("WARC/1.1\r\n");
        header.Append("WARC-Type: ").Append(type).Append("\r\n");
        header.Append("WARC-Record-ID: ").Append(recordId).Append("\r\n");
        header.Append("WARC-Date: ").Append(date.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n");
        if (targetUri.Length > 0) header.Append("WARC-Target-URI: ").Append(targetUri).Append("\r\n");
        foreach (var extra in extraHeaders ?? []) header.Append(extra.Key).Append(": ").Append(extra.Value).Append("\r\n");
        header.Append("Content-Type: ").Append(contentType).Append("\r\n");
        header.Append("Content-Length: ").Append(block.Length).Append("\r\n\r\n");
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        if (_gzipPerRecord)
        {
            using var gzip = new GZipStream(_stream, CompressionLevel.Optimal, leaveOpen: true);
            WriteParts(gzip, headerBytes, block);
        }
        else WriteParts(_stream, headerBytes, block);
        return recordId;
    }

    private static void WriteParts(Stream target, byte[] header, byte[] block)
    {
        target.Write(header);
        target.Write(block);
        target.Write("\r\n\r\n"u8);
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}
