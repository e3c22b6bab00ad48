using Dclm.Data.Documents;

namespace Dclm.Data.Urls;

/// <summary>Settings of one DCLM <c>url_substring_filter</c> call.</summary>
public sealed record UrlBanlist
{
    /// <summary>Banned words or domains.</summary>
    public required IReadOnlyList<string> Words { get; init; }
    /// <summary>Strings deleted from the (lowercased) URL before matching, e.g. "-" and "." against "ba-dwo.rd".</summary>
    public IReadOnlyList<string> IgnoreCharacters { get; init; } = [];
    /// <summary>Distinct banned words needed to drop the page (RefinedWeb's soft list: 2).</summary>
    public int BannedWordsNeeded { get; init; } = 1;
    /// <summary>Compare the URL's network location with the list exactly instead of searching the URL.</summary>
    public bool ExactDomainMatch { get; init; }
    /// <summary>Words may sit inside longer words; false requires word boundaries around them.</summary>
    public bool MatchSubstrings { get; init; } = true;
    /// <summary>Case-sensitive matching (DCLM's default: false).</summary>
    public bool CaseSensitive { get; init; }
}

/// <summary>
/// DCLM's <c>url_substring_filter</c> (RefinedWeb's URL blocklists): drops a page whose URL contains at least
/// <see cref="UrlBanlist.BannedWordsNeeded"/> distinct listed words, or whose network location is a listed domain.
/// </summary>
public sealed class UrlSubstringFilter : IDocumentStep
{
    private readonly UrlBanlist _banlist;
    private readonly LiteralTrie? _trie;
    private readonly HashSet<string>? _domains;

    /// <summary>Creates the filter; <paramref name="name"/> is its rule name in report.json.</summary>
    public UrlSubstringFilter(UrlBanlist banlist, string name = "url_banned")
    {
        _banlist = banlist;
        Name = name;
        var words = banlist.CaseSensitive ? banlist.Words : banlist.Words.Select(w => w.ToLowerInvariant()).ToList();
        if (banlist.ExactDomainMatch) _domains = words.ToHashSet(StringComparer.Ordinal);
        else _trie = new LiteralTrie(words, ignoreCase: !banlist.CaseSensitive);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>True when <paramref name="url"/> is banned.</summary>
    public bool IsBanned(string url)
    {
        string subject = _banlist.ExactDomainMatch ? UrlParts.NetworkLocation(url) : url;
        if (!_banlist.CaseSensitive) subject = subject.ToLowerInvariant();
        foreach (var ignored in _banlist.IgnoreCharacters) subject = subject.Replace(ignored, "", StringComparison.Ordinal);
        if (_domains is not null) return _domains.Contains(subject);
        return _trie!.FindAll(subject, wordBoundaries: !_banlist.MatchSubstrings, ignoreCase: !_banlist.CaseSensitive).Count >= _banlist.BannedWordsNeeded;
    }

    /// <inheritdoc />
    public StepOutcome Apply(Document document) => IsBanned(document.Url) ? StepOutcome.Drop(Name) : StepOutcome.Keep;
}
