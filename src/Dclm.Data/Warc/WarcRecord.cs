namespace Dclm.Data.Warc;

/// <summary>
/// One WARC record (ISO 28500, WARC/1.0 and WARC/1.1): the version line, named header fields (case-insensitive,
/// in file order) and the content block as raw bytes.
/// </summary>
public sealed class WarcRecord
{
    /// <summary>Creates a record.</summary>
    public WarcRecord(string version, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] block)
    {
        Version = version;
        Headers = headers;
        Block = block;
    }

    /// <summary>"WARC/1.0" or "WARC/1.1".</summary>
    public string Version { get; }

    /// <summary>Header fields in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The content block (Content-Length bytes).</summary>
    public byte[] Block { get; }

    /// <summary>First value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var header in Headers)
                if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase)) return header.Value;
            return null;
        }
    }

    /// <summary>WARC-Type (warcinfo, response, resource, request, metadata, conversion, ...).</summary>
    public string Type => this["WARC-Type"] ?? "";

    /// <summary>WARC-Record-ID, e.g. &lt;urn:uuid:...&gt;.</summary>
    public string RecordId => this["WARC-Record-ID"] ?? "";

    /// <summary>WARC-Target-URI, or empty.</summary>
    public string TargetUri => this["WARC-Target-URI"] ?? "";
}
