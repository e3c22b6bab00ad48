using System.Text;

namespace Dclm.Data.Warc;

/// <summary>The payload of a WARC <c>response</c> record: HTTP status, content type and decoded body text.</summary>
public sealed record HttpResponse(int StatusCode, string ContentType, string Body)
{
    static HttpResponse() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Splits an HTTP/1.x response block into headers and body and decodes the body by its charset.</summary>
    public static HttpResponse? Parse(byte[] block)
    {
        int headerEnd = IndexOf(block, "\r\n\r\n"u8, out int separatorLength);
        if (headerEnd < 0) return null;
        var headerText = Encoding.Latin1.GetString(block, 0, headerEnd);
        var lines = headerText.Split('\n');
        var status = lines[0].Trim().Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(status[1], out int code)) return null;
        string contentType = "";
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) contentType = line[(colon + 1)..].Trim();
        }
        int bodyStart = headerEnd + separatorLength;
        var body = Decode(block.AsSpan(bodyStart), contentType);
        return new HttpResponse(code, contentType, body);
    }

    /// <summary>Decodes <paramref name="bytes"/> by the charset in <paramref name="contentType"/>, else UTF-8.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string contentType)
    {
        var encoding = Encoding.UTF8;
        int index = contentType.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
        if (index >= 0)
        {
            var name = contentType[(index + 8)..].Split(';')[0].Trim().Trim('"', '\'');
            try { encoding = Encoding.GetEncoding(name); }
            // Unknown names throw ArgumentException; UTF-7, which .NET refuses to decode, NotSupportedException.
            catch (Exception error) when (error is ArgumentException or NotSupportedException) { encoding = Encoding.UTF8; }
        }
        return encoding.GetString(bytes);
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> pattern, out int length)
    {
        int crlf = data.AsSpan().IndexOf(pattern);
        int lf = data.AsSpan().IndexOf("\n\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf <= lf)) { length = 4; return crlf; }
        length = 2;
        return lf;
    }
}
