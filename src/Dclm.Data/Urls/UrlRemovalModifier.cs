using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Urls;

/// <summary>
/// DCLM's <c>url_removal_modifier</c>, reproduced rule for rule. When the page <em>starts</em> with a top-level domain
/// (DCLM tests its TLD pattern with <c>re.match</c>, case-insensitively: "The ..." starts with "th"), every match of
/// <c>\s{0,10}((https?|ftp)://)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.TLD\b[-a-zA-Z0-9()@:%_+.~#?&amp;/=]*</c> is deleted
/// (TLDs in lowercase only: that pattern is case-sensitive); then, on every page, every IPv4-like
/// <c>\s{0,10}\b((https?|ftp)://)?([0-2]?[0-9]{1,2}\.){3}[0-2]?[0-9]{1,2}[-a-zA-Z0-9()@:%_+.~#?&amp;/=]*</c>. The
/// matches are found as Python's backtracking <c>re.sub</c> finds them (leftmost start; the last dot that is followed
/// by the longest TLD with a word boundary), with Python's <c>\s</c> and <c>\b</c>. A page left empty is dropped.
/// </summary>
public sealed class UrlRemovalModifier : IDocumentStep
{
    private const int MaximumSpaces = 10;
    private const int MaximumHostRun = 256;
    private readonly LiteralTrie _domains;
    [ThreadStatic] private static List<int>? _ends;

    /// <summary>Creates the modifier over a top-level-domain list (DCLM: IANA's, "builtin:iana_tlds").</summary>
    public UrlRemovalModifier(IEnumerable<string> topLevelDomains) =>
        _domains = new LiteralTrie(topLevelDomains.Select(d => d.ToLowerInvariant()), ignoreCase: true);

    /// <summary>The modifier over IANA's list as DCLM ships it.</summary>
    public static UrlRemovalModifier Default() => new(BuiltinLists.Read("builtin:iana_tlds"));

    /// <inheritdoc />
    public string Name => "url_removal";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = Remove(document.Text);
        return document.Text.Length == 0 ? StepOutcome.Drop("empty_after_url_removal") : StepOutcome.Keep;
    }

    /// <summary>The text with URLs and IP addresses removed.</summary>
    public string Remove(string text)
    {
        if (_domains.StartsAt(text, 0, ignoreCase: true)) text = Substitute(text, MatchUrl);
        return RemoveAddresses(text);
    }

    private static readonly System.Buffers.SearchValues<char> AddressAnchors = System.Buffers.SearchValues.Create("0123456789hf");

    /// <summary>
    /// <c>re.sub(ipv4_regex, "", text)</c>, trying only starts that can match: a match needs a digit or a scheme at the
    /// end of at most ten spaces, so each such anchor is tried once, from the leftmost space that reaches it.
    /// </summary>
    private static string RemoveAddresses(string text)
    {
        System.Text.StringBuilder? output = null;
        int copied = 0, position = 0;
        var span = text.AsSpan();
        while (position < span.Length)
        {
            int anchor = span[position..].IndexOfAny(AddressAnchors);
            if (anchor < 0) break;
            anchor += position;
            int start = anchor;
            while (start > position && anchor - start < MaximumSpaces && PythonText.IsSpace(span[start - 1])) start--;
            int end = MatchAddress(span, start, out _);
            if (end < 0) { position = anchor + 1; continue; }
            output ??= new System.Text.StringBuilder(text.Length);
            output.Append(span[copied..start]);
            copied = position = end;
        }
        if (output is null) return text;
        output.Append(span[copied..]);
        return output.ToString();
    }

    private delegate int Matcher(ReadOnlySpan<char> text, int start, out int skipTo);

    /// <summary><c>re.sub(pattern, "", text)</c> for a matcher returning the match end or -1.</summary>
    private static string Substitute(string text, Matcher match)
    {
        System.Text.StringBuilder? output = null;
        int copied = 0, position = 0;
        var span = text.AsSpan();
        while (position < span.Length)
        {
            int end = match(span, position, out int skipTo);
            if (end < 0)
            {
                position = Math.Max(position + 1, skipTo);
                continue;
            }
            output ??= new System.Text.StringBuilder(text.Length);
            output.Append(span[copied..position]);
            copied = position = end;
        }
        if (output is null) return text;
        output.Append(span[copied..]);
        return output.ToString();
    }

    private static bool IsHostCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '@' or ':' or '%' or '.' or '_' or '+' or '~' or '#' or '=';

    private static bool IsTailCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '(' or ')' or '@' or ':' or '%' or '_' or '+' or '.' or '~' or '#' or '?' or '&' or '/' or '=';

    private static int Spaces(ReadOnlySpan<char> text, int start)
    {
        int i = start;
        while (i < text.Length && i - start < MaximumSpaces && PythonText.IsSpace(text[i])) i++;
        return i;
    }

    /// <summary>Length of "https://", "http://" or "ftp://" at <paramref name="index"/>, else 0.</summary>
    private static int Scheme(ReadOnlySpan<char> text, int index)
    {
        var rest = text[index..];
        if (rest.StartsWith("https://")) return 8;
        if (rest.StartsWith("http://")) return 7;
        return rest.StartsWith("ftp://") ? 6 : 0;
    }

    private static int Tail(ReadOnlySpan<char> text, int index)
    {
        while (index < text.Length && IsTailCharacter(text[index])) index++;
        return index;
    }

    private int MatchUrl(ReadOnlySpan<char> text, int start, out int skipTo)
    {
        skipTo = start + 1;
        int afterSpaces = Spaces(text, start);
        int scheme = afterSpaces < text.Length ? Scheme(text, afterSpaces) : 0;
        if (scheme > 0 && MatchHost(text, afterSpaces + scheme, out _) is var withScheme and >= 0) return withScheme;
        int end = MatchHost(text, afterSpaces, out bool exhausted);
        if (end >= 0 || afterSpaces != start || !exhausted || !IsHostCharacter(text[start])) return end;
        // Starts later in the same host run see a subset of its dots: skip to the run's end or the next scheme.
        int next = start + 1;
        while (next < text.Length && IsHostCharacter(text[next]) && Scheme(text, next) == 0) next++;
        skipTo = next;
        return -1;
    }

    /// <summary>The host run from <paramref name="start"/>, backtracking from its last dot to the first for ".TLD\b".</summary>
    private int MatchHost(ReadOnlySpan<char> text, int start, out bool exhausted)
    {
        int run = start;
        while (run < text.Length && run - start < MaximumHostRun && IsHostCharacter(text[run])) run++;
        exhausted = run - start < MaximumHostRun;
        var ends = _ends ??= new List<int>();
        for (int dot = run; dot > start; dot--)
        {
            if (dot >= text.Length || text[dot] != '.') continue;
            _domains.MatchEnds(text, dot + 1, ignoreCase: false, ends);
            for (int i = ends.Count - 1; i >= 0; i--)
            {
                if (!LiteralTrie.IsWordCharacter(text, ends[i])) return Tail(text, ends[i]);
            }
        }
        return -1;
    }

    private static int MatchAddress(ReadOnlySpan<char> text, int start, out int skipTo)
    {
        skipTo = start + 1;
        int at = Spaces(text, start);
        if (at >= text.Length || LiteralTrie.IsWordCharacter(text, at - 1) == LiteralTrie.IsWordCharacter(text, at)) return -1;
        int scheme = Scheme(text, at);
        int end = scheme > 0 ? Octets(text, at + scheme, 0) : -1;
        return end >= 0 ? end : Octets(text, at, 0);
    }

    /// <summary><c>([0-2]?[0-9]{1,2}\.){3}[0-2]?[0-9]{1,2}</c> then the tail, trying the alternatives in the regex's order.</summary>
    private static int Octets(ReadOnlySpan<char> text, int index, int done)
    {
        static bool Digit(ReadOnlySpan<char> t, int i) => i < t.Length && char.IsAsciiDigit(t[i]);
        Span<int> starts = stackalloc int[2];
        int options = 0;
        if (index < text.Length && text[index] is >= '0' and <= '2') starts[options++] = index + 1;
        starts[options++] = index;
        for (int o = 0; o < options; o++)
        {
            int digits = starts[o];
            for (int count = 2; count >= 1; count--)
            {
                if (!Digit(text, digits) || (count == 2 && !Digit(text, digits + 1))) continue;
                int end = digits + count;
                if (done == 3) return Tail(text, end);
                if (end < text.Length && text[end] == '.')
                {
                    int result = Octets(text, end + 1, done + 1);
                    if (result >= 0) return result;
                }
            }
        }
        return -1;
    }
}
