using System.Text.RegularExpressions;
using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>Where a banned string must sit in a line.</summary>
public enum SubstringLocation
{
    /// <summary>Anywhere.</summary>
    Any,
    /// <summary>At the start of the line.</summary>
    Prefix,
    /// <summary>At the end of the line.</summary>
    Suffix,
}

/// <summary>Settings of one DCLM <c>substring_line_modifier</c> call.</summary>
public sealed record SubstringLineRule
{
    /// <summary>The banned strings, joined into one regular expression without escaping (as DCLM does: "..." matches any three characters).</summary>
    public required IReadOnlyList<string> Banlist { get; init; }
    /// <summary>Where they must sit.</summary>
    public SubstringLocation Location { get; init; } = SubstringLocation.Any;
    /// <summary>Only lines of at most this many <c>str.split()</c> words are touched; null: all.</summary>
    public int? MaxLength { get; init; }
    /// <summary>Delete only the matched text (a line left blank disappears); false removes every matching line.</summary>
    public bool RemoveSubstringOnly { get; init; }
    /// <summary>Case-sensitive matching (DCLM's default: false).</summary>
    public bool CaseSensitive { get; init; }

    /// <summary>DCLM-Baseline's three calls: "items in cart" anywhere, "Read more..." at the end, "Sign-in" at the start, in lines of at most 10 words.</summary>
    public static IReadOnlyList<SubstringLineRule> DclmBaseline { get; } =
    [
        new() { Banlist = ["items in cart"], Location = SubstringLocation.Any, MaxLength = 10, RemoveSubstringOnly = true },
        new() { Banlist = ["Read more..."], Location = SubstringLocation.Suffix, MaxLength = 10, RemoveSubstringOnly = true },
        new() { Banlist = ["Sign-in"], Location = SubstringLocation.Prefix, MaxLength = 10, RemoveSubstringOnly = true },
    ];
}

/// <summary>
/// RefinedWeb's <c>substring_line_modifier</c>: in lines short enough, deletes the banned strings (a line left blank
/// disappears) or removes lines containing them, then strips the page. The pattern is DCLM's, built the same way:
/// <c>^(?:a|b)\s?</c>, <c>\s?(?:a|b)$</c> or <c>\s?(?:a|b)</c>, case-insensitive unless asked, with Python's <c>\s</c>.
/// </summary>
public sealed class SubstringLineModifier : IDocumentStep
{
    private const string PythonSpace = @"[\s\x1c-\x1f]";
    private readonly SubstringLineRule _rule;
    private readonly Regex _pattern;

    /// <summary>Creates the modifier.</summary>
    public SubstringLineModifier(SubstringLineRule rule)
    {
        _rule = rule;
        var words = rule.CaseSensitive ? rule.Banlist : rule.Banlist.Select(b => b.ToLowerInvariant()).ToList();
        var alternatives = $"(?:{string.Join('|', words)})";
        var pattern = rule.Location switch
        {
            SubstringLocation.Prefix => $"^{alternatives}{PythonSpace}?",
            SubstringLocation.Suffix => $"{PythonSpace}?{alternatives}$",
            _ => $"{PythonSpace}?{alternatives}",
        };
        var options = RegexOptions.CultureInvariant | (rule.CaseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase);
        try
        {
            _pattern = new Regex(pattern, options, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException error)
        {
            throw new ArgumentException($"substring banlist {string.Join(", ", rule.Banlist)}: not a valid regular expression ({error.Message})");
        }
    }

    /// <inheritdoc />
    public string Name => "boilerplate_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = LineEdit.Apply(document.Text, Rewrite, strip: true);
        return document.Text.Length == 0 ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }

    private bool Rewrite(ReadOnlySpan<char> line, out string? replacement)
    {
        replacement = null;
        if (_rule.MaxLength is { } maximum && PythonText.CountWords(line) > maximum) return true;
        bool matches = _pattern.IsMatch(line);
        if (!_rule.RemoveSubstringOnly) return !matches;
        // DCLM drops a non-empty line that is blank after the substitution, even one that was blank before it.
        var modified = matches ? _pattern.Replace(line.ToString(), "") : null;
        var after = modified is null ? line : modified.AsSpan();
        if (line.Length > 0 && (after.Length == 0 || PythonText.IsAllSpace(after))) return false;
        replacement = modified;
        return true;
    }
}
