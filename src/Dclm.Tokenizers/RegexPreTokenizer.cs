using System.Diagnostics;
using System.Text.RegularExpressions;
using Dclm.Tokenizers.Patterns;

namespace Dclm.Tokenizers;

/// <summary>
/// A tokenizer.json <c>Split</c> with an unrecognised pattern and the "Isolated" behaviour: every match and
/// every gap between matches becomes a piece. .NET's engines classify UTF-16 code units, so letters and digits
/// outside the Basic Multilingual Plane fall into negated classes; the common patterns avoid this by using
/// <see cref="PatternPreTokenizer"/>.
/// </summary>
/// <remarks>
/// The pattern comes from a model folder, the text from users, so the engine is chosen at load time to bound
/// the work. A pattern .NET's non-backtracking engine can run is matched with it, in time linear in the text,
/// anchored at each position: its unanchored search drops matches of patterns that start with an optional
/// element (<c> ?a+</c> on "a aa" finds no "aa"; dotnet/runtime#130176, .NET 7 to 10), so it only finds where
/// the next match can start no later than. Anything else (lookarounds, as in <c>\s+(?!\S)</c>) runs on the
/// backtracking engine, but only when <see cref="RegexShape"/> finds no construct that can make backtracking
/// exponential; other patterns are refused with the reason. Either way a text that takes longer than the
/// time limit ends in a <see cref="PreTokenizerTimeoutException"/>, never a hang.
/// </remarks>
internal sealed class RegexPreTokenizer : IPreTokenizer
{
    /// <summary>Longest pattern accepted; real split patterns are a few hundred characters.</summary>
    public const int MaximumPatternLength = 16 * 1024;

    private static readonly TimeSpan BaseTimeLimit = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TimeLimitPerCharacter = TimeSpan.FromTicks(20); // 2 µs

    private readonly string pattern;
    private readonly string source;
    private readonly Regex? anchored;
    private readonly Regex search;

    private RegexPreTokenizer(string pattern, string source, Regex search, Regex? anchored)
    {
        this.pattern = pattern;
        this.source = source;
        this.search = search;
        this.anchored = anchored;
    }

    /// <summary>True when the pattern runs on the non-backtracking engine.</summary>
    public bool IsLinear => anchored is not null;

    /// <summary>
    /// Chooses the engine for <paramref name="pattern"/>, or throws <see cref="VocabularyProblemException"/>
    /// saying why it cannot be run safely; <paramref name="source"/> names the file in timeout errors.
    /// </summary>
    public static RegexPreTokenizer Create(string pattern, string source)
    {
        string shown = $"the pre-tokenizer pattern '{Shown(pattern)}'";
        if (pattern.Length > MaximumPatternLength)
        {
            throw new VocabularyProblemException($"{shown} is {pattern.Length} characters long, more than {MaximumPatternLength}");
        }
        Regex backtracking;
        try
        {
            backtracking = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException error)
        {
            throw new VocabularyProblemException($"{shown} does not compile: {error.Message}");
        }
        var shape = RegexShape.Read(pattern);
        if (!shape.LooksBehind)
        {
            try
            {
                const RegexOptions linear = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;
                return new RegexPreTokenizer(pattern, source, new Regex(pattern, linear), new Regex("^(?:" + pattern + ")", linear));
            }
            catch (NotSupportedException)
            {
                // Lookarounds, atomic groups, backreferences: only the backtracking engine runs them.
            }
        }
        if (shape.BacktrackingHazard is string hazard)
        {
            throw new VocabularyProblemException(
                $"{shown} needs the backtracking regex engine, and cannot be run safely on it: {hazard}");
        }
        return new RegexPreTokenizer(pattern, source, backtracking, anchored: null);
    }

    public void Split(string text, List<TextPiece> pieces)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)((BaseTimeLimit + TimeLimitPerCharacter * text.Length).TotalSeconds * Stopwatch.Frequency);
        try
        {
            if (anchored is not null)
            {
                SplitAnchored(text, pieces, deadline);
            }
            else
            {
                SplitSearching(text, pieces, deadline);
            }
        }
        catch (RegexMatchTimeoutException)
        {
            throw TimedOut(text);
        }
    }

    private void SplitSearching(string text, List<TextPiece> pieces, long deadline)
    {
        int previousEnd = 0;
        foreach (var match in search.EnumerateMatches(text))
        {
            CheckTime(deadline, text);
            if (match.Length == 0)
            {
                continue;
            }
            AddMatch(pieces, ref previousEnd, match.Index, match.Length);
        }
        if (previousEnd < text.Length)
        {
            pieces.Add(new TextPiece(previousEnd, text.Length - previousEnd));
        }
    }

    // Leftmost-first matches found one position at a time: the anchored pattern at the current position, and
    // where it fails, the unanchored search for the next position a match can start at (an upper bound, see
    // the remarks), then the anchored pattern at each position up to there.
    private void SplitAnchored(string text, List<TextPiece> pieces, long deadline)
    {
        int previousEnd = 0;
        int position = 0;
        // Where the unanchored search last found a match: the true next match starts there or earlier (the
        // search only ever reports a later match than the leftmost), so it runs again only once passed.
        int nextStart = -1;
        while (position < text.Length)
        {
            CheckTime(deadline, text);
            int length = AnchoredLength(text, position);
            if (length > 0)
            {
                AddMatch(pieces, ref previousEnd, position, length);
                position += length;
                continue;
            }
            if (nextStart <= position)
            {
                nextStart = NextMatchStart(text, position + 1);
                if (nextStart < 0)
                {
                    break; // no match anywhere in the rest: it is one gap
                }
            }
            position++;
        }
        if (previousEnd < text.Length)
        {
            pieces.Add(new TextPiece(previousEnd, text.Length - previousEnd));
        }
    }

    private int AnchoredLength(string text, int position)
    {
        var matches = anchored!.EnumerateMatches(text.AsSpan(position));
        return matches.MoveNext() ? matches.Current.Length : 0;
    }

    // The start of the first non-empty match the unanchored search reports at or after from, or -1 for none.
    private int NextMatchStart(string text, int from)
    {
        if (from >= text.Length)
        {
            return -1;
        }
        foreach (var match in search.EnumerateMatches(text.AsSpan(from)))
        {
            if (match.Length > 0)
            {
                return from + match.Index;
            }
        }
        return -1;
    }

    private static void AddMatch(List<TextPiece> pieces, ref int previousEnd, int index, int length)
    {
        if (index > previousEnd)
        {
            pieces.Add(new TextPiece(previousEnd, index - previousEnd));
        }
        pieces.Add(new TextPiece(index, length));
        previousEnd = index + length;
    }

    private void CheckTime(long deadline, string text)
    {
        if (Stopwatch.GetTimestamp() > deadline)
        {
            throw TimedOut(text);
        }
    }

    private PreTokenizerTimeoutException TimedOut(string text) =>
        new(source, $"the pre-tokenizer pattern '{Shown(pattern)}' took longer than its time limit "
            + $"({(BaseTimeLimit + TimeLimitPerCharacter * text.Length).TotalSeconds:0.#} s) to split a text of {text.Length} characters");

    private static string Shown(string pattern) => Dclm.Formats.Printable.Text(pattern);
}
