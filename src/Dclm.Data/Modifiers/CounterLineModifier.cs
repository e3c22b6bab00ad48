using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>
/// RefinedWeb's <c>counter_line_modifier</c>: removes lines that are only a social counter such as "12 likes",
/// "3,000 views" or "5.1M followers", then strips the page. DCLM searches each lowercased line with
/// <c>^\W*\d(?:,|\.|\d)*(?:K|k|M|m|B|b)?\s+(?:likes|shares|comments|retweets|reposts|quotes|bookmarks|upvotes|downvotes|downloads|views|followers)\W*$</c>;
/// this matcher walks the same pattern with Python's <c>\W</c>, <c>\d</c> and <c>\s</c> (none of its steps can
/// backtrack into another outcome).
/// </summary>
public sealed class CounterLineModifier : IDocumentStep
{
    private static readonly string[] Counters =
        ["likes", "shares", "comments", "retweets", "reposts", "quotes", "bookmarks", "upvotes", "downvotes", "downloads", "views", "followers"];

    /// <inheritdoc />
    public string Name => "counter_lines";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.Text = LineEdit.Apply(document.Text, line => !IsCounter(line), strip: true);
        return document.Text.Length == 0 ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }

    private static bool IsWord(int codePoint) => codePoint == '_' || PythonText.IsAlnum(codePoint);

    private static bool IsDecimal(int codePoint) => System.Globalization.CharUnicodeInfo.GetUnicodeCategory(codePoint) == System.Globalization.UnicodeCategory.DecimalDigitNumber;

    private static (int CodePoint, int Width) Next(ReadOnlySpan<char> line, int i) => i < line.Length ? PythonText.At(line, i) : (-1, 0);

    /// <summary>True when the lowercased line is a counter.</summary>
    public static bool IsCounter(ReadOnlySpan<char> line)
    {
        int i = 0;
        // ^\W*
        while (Next(line, i) is var (c, w) && c >= 0 && !IsWord(c)) i += w;
        // \d
        var (digit, width) = Next(line, i);
        if (digit < 0 || !IsDecimal(digit)) return false;
        i += width;
        // (?:,|\.|\d)*
        while (Next(line, i) is var (c, w) && c >= 0 && (c is ',' or '.' || IsDecimal(c))) i += w;
        // (?:K|k|M|m|B|b)? — taking the letter is the only way on: \s+ cannot start at a letter.
        if (i < line.Length && char.ToLowerInvariant(line[i]) is 'k' or 'm' or 'b') i++;
        // \s+
        int spaces = i;
        while (i < line.Length && PythonText.IsSpace(line[i])) i++;
        if (i == spaces) return false;
        // the counter word (the line is lowercased first)
        string? counter = null;
        foreach (var candidate in Counters)
        {
            if (i + candidate.Length <= line.Length && PythonText.LowerEquals(line.Slice(i, candidate.Length), candidate)) { counter = candidate; break; }
        }
        if (counter is null) return false;
        i += counter.Length;
        // \W*$
        while (Next(line, i) is var (c, w) && c >= 0)
        {
            if (IsWord(c)) return false;
            i += w;
        }
        return true;
    }
}
