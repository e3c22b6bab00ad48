using System.Text.RegularExpressions;
using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>Settings of RefinedWeb's line-wise corrections as DCLM-Baseline configures them.</summary>
public sealed record LineRemovalSettings
{
    /// <summary>Lines whose uppercase share exceeds this are removed (DCLM: 0.5).</summary>
    public double MaximumUppercaseFraction { get; init; } = 0.5;

    /// <summary>Lines whose digit share exceeds this are removed (DCLM: 0.999999, i.e. all-digit lines).</summary>
    public double MaximumDigitFraction { get; init; } = 0.999999;

    /// <summary>Lines with fewer whitespace words than this are removed (DCLM: 2).</summary>
    public int MinimumWordsPerLine { get; init; } = 2;

    /// <summary>Boilerplate substrings removed from short lines (≤ 10 words).</summary>
    public bool RemoveBoilerplateSubstrings { get; init; } = true;

    /// <summary>The page is dropped when the corrections removed more than this share of its words (DCLM: 0.05).</summary>
    public double MaximumRemovedWordFraction { get; init; } = 0.05;
}

/// <summary>
/// RefinedWeb line-wise corrections (Penedo et al. 2023, §G.2) in DCLM's order: uppercase lines, all-digit lines,
/// social counters ("12 likes"), one-word lines, and the "items in cart" / "Read more..." / "Sign-in" substrings;
/// then the page is dropped when more than 5% of its words were removed.
/// </summary>
public sealed class LineRemovals(LineRemovalSettings settings) : IDocumentStep
{
    private static readonly Regex Counter = new(
        @"^\W*\d(?:,|\.|\d)*(?:K|k|M|m|B|b)?\s+(?:likes|shares|comments|retweets|reposts|quotes|bookmarks|upvotes|downvotes|downloads|views|followers)\W*$",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    // DCLM joins the banned strings into a regex without escaping them, so "..." in "Read more..." matches any
    // three characters; kept as is to reproduce the baseline.
    private static readonly (Regex Pattern, int MaximumWords)[] Substrings =
    [
        (new Regex(@"\s?(?:items in cart)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled), 10),
        (new Regex(@"\s?(?:read more...)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled), 10),
        (new Regex(@"^(?:sign-in)\s?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled), 10),
    ];

    /// <inheritdoc />
    public string Name => "line_removals";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int before = WordSplitter.CountWords(document.Text);
        if (before == 0) return StepOutcome.Drop("word_removal_ratio");
        string? text = document.Text;
        text = KeepLines(text, line => line.Length == 0 || (double)line.Count(char.IsUpper) / line.Length <= settings.MaximumUppercaseFraction, strip: true);
        if (text is null) return StepOutcome.Drop("uppercase_lines");
        text = KeepLines(text, line => line.Length == 0 || (double)line.Count(char.IsDigit) / line.Length <= settings.MaximumDigitFraction, strip: true);
        if (text is null) return StepOutcome.Drop("numeric_lines");
        text = KeepLines(text, line => !Counter.IsMatch(line.ToLowerInvariant()), strip: true);
        if (text is null) return StepOutcome.Drop("counter_lines");
        text = KeepLines(text, line => line.Length == 0 || WordSplitter.SplitOnWhitespace(line).Count >= settings.MinimumWordsPerLine, strip: false);
        if (text is null) return StepOutcome.Drop("short_lines");
        if (settings.RemoveBoilerplateSubstrings)
        {
            foreach (var (pattern, maximumWords) in Substrings)
            {
                text = RemoveSubstrings(text, pattern, maximumWords);
                if (text is null) return StepOutcome.Drop("boilerplate_lines");
            }
        }
        int after = WordSplitter.CountWords(text);
        if ((double)(before - after) / before > settings.MaximumRemovedWordFraction) return StepOutcome.Drop("word_removal_ratio");
        document.Text = text;
        return StepOutcome.Keep;
    }

    /// <summary>Keeps the lines matching <paramref name="keep"/>; null when nothing is left.</summary>
    private static string? KeepLines(string text, Func<string, bool> keep, bool strip)
    {
        var joined = string.Join('\n', text.Split('\n').Where(keep));
        if (strip) joined = joined.Trim();
        return joined.Length == 0 ? null : joined;
    }

    /// <summary>DCLM's <c>substring_line_modifier(remove_substring_only=True)</c>: lines that become blank vanish.</summary>
    private static string? RemoveSubstrings(string text, Regex pattern, int maximumWords)
    {
        var kept = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            if (WordSplitter.SplitOnWhitespace(line).Count > maximumWords) { kept.Add(line); continue; }
            var modified = pattern.Replace(line, "");
            if (line.Length > 0 && string.IsNullOrWhiteSpace(modified)) continue;
            kept.Add(modified);
        }
        var joined = string.Join('\n', kept).Trim();
        return joined.Length == 0 ? null : joined;
    }
}
