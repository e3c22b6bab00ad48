namespace Dclm.Data.Urls;

/// <summary>Python's <c>urllib.parse.urlparse(url).netloc</c> (3.11 rules), which DCLM's exact-domain filter reads.</summary>
public static class UrlParts
{
    /// <summary>
    /// The network location: after a valid scheme and "//", up to the first '/', '?' or '#'; empty without "//".
    /// Leading C0 controls and spaces are stripped and tab, CR and LF removed first, as urlsplit does.
    /// </summary>
    public static string NetworkLocation(string url)
    {
        int start = 0;
        while (start < url.Length && url[start] <= ' ') start++;
        var rest = url[start..];
        if (rest.AsSpan().IndexOfAny('\t', '\r', '\n') >= 0) rest = rest.Replace("\t", "").Replace("\r", "").Replace("\n", "");
        int colon = rest.IndexOf(':');
        if (colon > 0 && char.IsAsciiLetter(rest[0]) && rest.AsSpan(0, colon).IndexOfAnyExcept(SchemeCharacters) < 0) rest = rest[(colon + 1)..];
        if (!rest.StartsWith("//", StringComparison.Ordinal)) return "";
        int end = rest.AsSpan(2).IndexOfAny('/', '?', '#');
        return end < 0 ? rest[2..] : rest.Substring(2, end);
    }

    private static readonly System.Buffers.SearchValues<char> SchemeCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
}
