using System.Text;

namespace Dclm.Data.Inputs;

/// <summary>
/// Minimal RFC 5322/2045 reader for mail corpora such as SpamAssassin: unfolds headers, walks multipart bodies,
/// undoes quoted-printable and base64 transfer encodings and returns the subject plus the first text/plain
/// part (or the first text/html part, flagged so the pipeline extracts it).
/// </summary>
public static class EmailMessage
{
    /// <summary>Largest nesting of multipart bodies followed; deeper parts are ignored rather than recursed into.</summary>
    private const int MaximumDepth = 8;

    /// <summary>The readable body of <paramref name="raw"/>; <c>IsHtml</c> tells whether it is HTML.</summary>
    public static (string Text, bool IsHtml) ExtractBody(string raw)
    {
        var (headers, body) = SplitHeaders(raw);
        var subject = headers.GetValueOrDefault("subject", "");
        var part = FindPart(headers, body, 0);
        var text = part.Text;
        if (subject.Length > 0) text = part.IsHtml ? $"<h1>{System.Net.WebUtility.HtmlEncode(subject)}</h1>\n{text}" : subject + "\n\n" + text;
        return (text, part.IsHtml);
    }

    private static (string Text, bool IsHtml) FindPart(Dictionary<string, string> headers, string body, int depth)
    {
        var contentType = headers.GetValueOrDefault("content-type", "text/plain");
        var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType.StartsWith("multipart/", StringComparison.Ordinal) && depth < MaximumDepth && Parameter(contentType, "boundary") is { Length: > 0 } boundary)
        {
            (string, bool)? html = null;
            foreach (var section in SplitMultipart(body, boundary))
            {
                var (partHeaders, partBody) = SplitHeaders(section);
                var found = FindPart(partHeaders, partBody, depth + 1);
                if (found.Text.Length == 0) continue;
                if (!found.IsHtml) return found;
                html ??= found;
            }
            return html ?? ("", false);
        }
        if (!mediaType.StartsWith("text/", StringComparison.Ordinal) && mediaType.Length > 0) return ("", false);
        var decoded = DecodeTransfer(body, headers.GetValueOrDefault("content-transfer-encoding", ""), Parameter(contentType, "charset"));
        return (decoded, mediaType == "text/html");
    }

    private static (Dictionary<string, string> Headers, string Body) SplitHeaders(string raw)
    {
        var normalized = raw.Replace("\r\n", "\n");
        int end = normalized.IndexOf("\n\n", StringComparison.Ordinal);
        var headerBlock = end < 0 ? normalized : normalized[..end];
        var body = end < 0 ? "" : normalized[(end + 2)..];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? lastName = null;
        foreach (var line in headerBlock.Split('\n'))
        {
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && lastName is not null) { headers[lastName] += " " + line.Trim(); continue; }
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            lastName = line[..colon].Trim();
            if (!headers.ContainsKey(lastName)) headers[lastName] = line[(colon + 1)..].Trim();
            else lastName = null;
        }
        return (headers, body);
    }

    private static IEnumerable<string> SplitMultipart(string body, string boundary)
    {
        var delimiter = "--" + boundary;
        var pieces = body.Split(delimiter);
        for (int i = 1; i < pieces.Length; i++)
        {
            if (pieces[i].StartsWith("--", StringComparison.Ordinal)) yield break;
            yield return pieces[i].TrimStart('\r', '\n', ' ', '\t');
        }
    }

    private static string? Parameter(string headerValue, string name)
    {
        foreach (var piece in headerValue.Split(';').Skip(1))
        {
            int equals = piece.IndexOf('=');
            if (equals > 0 && piece[..equals].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                return piece[(equals + 1)..].Trim().Trim('"');
        }
        return null;
    }

    private static string DecodeTransfer(string body, string encoding, string? charset)
    {
        byte[] bytes;
        switch (encoding.Trim().ToLowerInvariant())
        {
            case "base64":
                try { bytes = Convert.FromBase64String(new string(body.Where(c => !char.IsWhiteSpace(c)).ToArray())); }
                catch (FormatException) { return ""; }
                break;
            case "quoted-printable":
                bytes = DecodeQuotedPrintable(body);
                break;
            default:
                return body;
        }
        return Warc.HttpResponse.Decode(bytes, charset is null ? "" : "charset=" + charset);
    }

    private static byte[] DecodeQuotedPrintable(string body)
    {
        var output = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '=' && i + 1 < body.Length && body[i + 1] == '\n') { i++; continue; }
            if (c == '=' && i + 2 < body.Length && Uri.IsHexDigit(body[i + 1]) && Uri.IsHexDigit(body[i + 2]))
            {
                output.Add(Convert.ToByte(body.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            foreach (var b in Encoding.UTF8.GetBytes(c.ToString())) output.Add(b);
        }
        return output.ToArray();
    }
}
