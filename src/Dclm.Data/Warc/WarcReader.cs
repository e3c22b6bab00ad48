using System.Text;

namespace Dclm.Data.Warc;

/// <summary>
/// Streaming WARC reader. Accepts WARC/1.0 and WARC/1.1, plain or gzip (one gzip member per record, as Common
/// Crawl writes them, or one member for the whole file). Every field is validated: a bad version line, a
/// header without a colon, a missing or oversized Content-Length or a truncated block raises
/// <see cref="InvalidDataException"/> naming the file and the record's offset.
/// </summary>
public sealed class WarcReader : IDisposable
{
    /// <summary>Largest content block accepted; larger claims are treated as corruption, not allocated.</summary>
    public const long MaximumBlockBytes = 256L << 20;

    private const int MaximumHeaderLineBytes = 64 << 10;
    private readonly Stream _stream;
    private readonly string _name;
    private long _recordIndex;

    /// <summary>Reads records from an already decompressed <paramref name="stream"/>; <paramref name="name"/> labels errors.</summary>
    public WarcReader(Stream stream, string name)
    {
        _stream = new BufferedStream(stream, 1 << 16);
        _name = name;
    }

    /// <summary>Opens a .warc or .warc.gz file.</summary>
    public static WarcReader Open(string path) => new(IO.CompressedFile.OpenRead(path), path);

    /// <summary>Reads the next record, or null at the end of the file.</summary>
    public WarcRecord? Next()
    {
        try { return ReadRecord(); }
        catch (Exception error) when (error is IOException or ZstdSharp.ZstdException || (error is InvalidDataException && !error.Message.StartsWith(_name, StringComparison.Ordinal)))
        {
            throw new InvalidDataException($"{_name}: record {_recordIndex}: corrupt compressed data ({error.Message})");
        }
    }

    /// <summary>All remaining records.</summary>
    public IEnumerable<WarcRecord> ReadAll()
    {
        while (Next() is { } record) yield return record;
    }

    private WarcRecord? ReadRecord()
    {
        string? version;
        do
        {
            version = ReadLine();
            if (version is null) return null;
        } while (version.Length == 0);
        if (version is not ("WARC/1.0" or "WARC/1.1"))
            throw Error($"expected 'WARC/1.0' or 'WARC/1.1' but found '{Truncate(version)}'");

        var headers = new List<KeyValuePair<string, string>>();
        while (true)
        {
            var line = ReadLine() ?? throw Error("file ends inside the record header");
            if (line.Length == 0) break;
            if ((line[0] == ' ' || line[0] == '\t') && headers.Count > 0)
            {
                var last = headers[^1];
                headers[^1] = new(last.Key, last.Value + " " + line.Trim());
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon <= 0) throw Error($"header line without a field name: '{Truncate(line)}'");
            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        var lengthText = headers.FirstOrDefault(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)).Value
            ?? throw Error("missing Content-Length");
        if (!long.TryParse(lengthText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long length))
            throw Error($"Content-Length '{Truncate(lengthText)}' is not a non-negative integer");
        if (length > MaximumBlockBytes) throw Error($"Content-Length {length} exceeds the {MaximumBlockBytes}-byte limit");

        // The buffer grows as the bytes arrive, so a Content-Length that lies costs no more memory than the file holds.
        var block = new byte[Math.Min(length, 1 << 20)];
        int read = 0;
        while (read < length)
        {
            if (read == block.Length) Array.Resize(ref block, (int)Math.Min(length, 2L * block.Length));
            int n = _stream.Read(block, read, block.Length - read);
            if (n == 0) throw Error($"block truncated: Content-Length {length} but only {read} bytes remain");
            read += n;
        }
        // A record ends with CRLF CRLF; tolerate bare LFs written by some tools.
        for (int i = 0; i < 2; i++)
        {
            var terminator = ReadLine();
            if (terminator is null) break;
            if (terminator.Length != 0) throw Error("record is not followed by the CRLF CRLF terminator (Content-Length wrong?)");
        }
        _recordIndex++;
        return new WarcRecord(version, headers, block);
    }

    /// <summary>Reads one line without its CRLF/LF terminator; null at end of stream.</summary>
    private string? ReadLine()
    {
        var bytes = new List<byte>(128);
        while (true)
        {
            int b = _stream.ReadByte();
            if (b < 0) return bytes.Count == 0 ? null : throw Error("file ends inside a header line");
            if (b == '\n') break;
            bytes.Add((byte)b);
            if (bytes.Count > MaximumHeaderLineBytes) throw Error("header line longer than 64 KiB");
        }
        if (bytes.Count > 0 && bytes[^1] == '\r') bytes.RemoveAt(bytes.Count - 1);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private InvalidDataException Error(string message) => new($"{_name}: WARC record {_recordIndex}: {message}");

    // Text from a corrupt file may hold control characters: escaped, so the error stays one line.
    private static string Truncate(string text) => Dclm.Formats.Printable.Text(text.Length > 60 ? text[..60] + "..." : text);

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}
