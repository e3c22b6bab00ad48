using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>Thresholds of Gopher's repetition rules (Rae et al. 2021, table A1), as DCLM's defaults.</summary>
public sealed record RepetitionThresholds
{
    /// <summary>Max fraction of lines that are duplicates of another line (counted by lines).</summary>
    public double DuplicateLineFraction { get; init; } = 0.3;

    /// <summary>Max fraction of paragraphs ("\n\n"-separated) that are duplicates (counted by paragraphs).</summary>
    public double DuplicateParagraphFraction { get; init; } = 0.3;

    /// <summary>Max fraction of line characters inside duplicated lines.</summary>
    public double DuplicateLineCharacterFraction { get; init; } = 0.2;

    /// <summary>Max fraction of paragraph characters inside duplicated paragraphs.</summary>
    public double DuplicateParagraphCharacterFraction { get; init; } = 0.2;

    /// <summary>Max character fraction of the most common n-gram, for n = 2, 3, 4.</summary>
    public double[] TopNgramCharacterFractions { get; init; } = [0.20, 0.18, 0.16];

    /// <summary>Max character fraction covered by n-grams occurring more than once, for n = 5..10.</summary>
    public double[] DuplicateNgramCharacterFractions { get; init; } = [0.15, 0.14, 0.13, 0.12, 0.11, 0.10];
}

/// <summary>
/// Gopher repetition filters as DCLM's <c>massive_web_repetition_filters</c> applies them: duplicate
/// lines/paragraphs by count and by characters, the most common 2..4-gram's character share, and the share
/// of characters covered by repeated 5..10-grams. Words come from Unicode segmentation without punctuation.
/// </summary>
public sealed class RepetitionFilter(RepetitionThresholds thresholds) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "repetition";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var text = document.Text;
        if (text.Length == 0) return StepOutcome.Drop("repetition_empty");
        var lines = TextSegments.SplitNonEmpty(text, "\n");
        var paragraphs = TextSegments.SplitNonEmpty(text, "\n\n");
        if (lines.Count == 0) return StepOutcome.Drop("repetition_empty");
        if (DuplicateFraction(lines, byCharacters: false) > thresholds.DuplicateLineFraction) return StepOutcome.Drop("duplicate_lines");
        if (DuplicateFraction(paragraphs, byCharacters: false) > thresholds.DuplicateParagraphFraction) return StepOutcome.Drop("duplicate_paragraphs");
        if (DuplicateFraction(lines, byCharacters: true) > thresholds.DuplicateLineCharacterFraction) return StepOutcome.Drop("duplicate_line_chars");
        if (DuplicateFraction(paragraphs, byCharacters: true) > thresholds.DuplicateParagraphCharacterFraction) return StepOutcome.Drop("duplicate_paragraph_chars");

        var words = WordSplitter.SegmentWords(text);
        long totalCharacters = words.Sum(w => (long)w.Length);
        if (totalCharacters == 0) return StepOutcome.Keep;
        for (int n = 2; n <= 4; n++)
        {
            if (TopNgramCharacterFraction(words, n, totalCharacters) > thresholds.TopNgramCharacterFractions[n - 2])
                return StepOutcome.Drop($"top_{n}gram");
        }
        for (int n = 5; n <= 10; n++)
        {
            if (DuplicateNgramCharacterFraction(words, n, totalCharacters) > thresholds.DuplicateNgramCharacterFractions[n - 5])
                return StepOutcome.Drop($"duplicate_{n}gram");
        }
        return StepOutcome.Keep;
    }

    /// <summary>
    /// Share of segments (or of their characters) belonging to segments that occur more than once. A single
    /// segment is never repeated; an empty list counts as fully repeated so the caller drops it.
    /// </summary>
    internal static double DuplicateFraction(List<string> segments, bool byCharacters)
    {
        if (segments.Count == 0) return 1.0;
        if (segments.Count == 1) return 0.0;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in segments) counts[s] = counts.GetValueOrDefault(s) + 1;
        if (!byCharacters) return (double)counts.Values.Where(c => c > 1).Sum() / segments.Count;
        long total = segments.Sum(s => (long)s.Length);
        long repeated = counts.Where(kv => kv.Value > 1).Sum(kv => (long)kv.Key.Length * kv.Value);
        return total == 0 ? 0.0 : (double)repeated / total;
    }

    /// <summary>
    /// Characters of the most common n-gram times its count, over all word characters; ties take the
    /// longest n-gram. Zero when no n-gram repeats.
    /// </summary>
    internal static double TopNgramCharacterFraction(List<string> words, int n, long totalCharacters)
    {
        if (words.Count < n) return 0.0;
        var array = words.ToArray();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int best = 0;
        for (int i = 0; i + n <= array.Length; i++)
        {
            var key = string.Join('\u0001', array, i, n);
            int c = counts.GetValueOrDefault(key) + 1;
            counts[key] = c;
            if (c > best) best = c;
        }
        if (best <= 1) return 0.0;
        long longest = counts.Where(kv => kv.Value == best).Max(kv => (long)(kv.Key.Length - (n - 1)));
        return (double)(longest * best) / totalCharacters;
    }

    /// <summary>Characters of words covered by any n-gram that occurs more than once, each word counted once.</summary>
    internal static double DuplicateNgramCharacterFraction(List<string> words, int n, long totalCharacters)
    {
        if (words.Count < n) return 0.0;
        var array = words.ToArray();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new string[array.Length - n + 1];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = string.Join('\u0001', array, i, n);
            counts[keys[i]] = counts.GetValueOrDefault(keys[i]) + 1;
        }
        var covered = new bool[words.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            if (counts[keys[i]] > 1) for (int j = i; j < i + n; j++) covered[j] = true;
        }
        long repeated = 0;
        for (int i = 0; i < words.Count; i++) if (covered[i]) repeated += words[i].Length;
        return (double)repeated / totalCharacters;
    }
}
