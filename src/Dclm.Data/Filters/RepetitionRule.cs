namespace Dclm.Data.Filters;

/// <summary>What a repetition rule compares.</summary>
public enum RepetitionUnit
{
    /// <summary>Stripped non-blank lines.</summary>
    Line,
    /// <summary>Stripped non-blank "\n\n"-separated paragraphs.</summary>
    Paragraph,
    /// <summary>Word n-grams.</summary>
    Ngram,
}

/// <summary>How an n-gram rule measures repetition.</summary>
public enum NgramMeasure
{
    /// <summary>Characters of the most common n-gram (the longest among ties) times its count (Gopher, n = 2..4).</summary>
    MostCommon,
    /// <summary>Characters of the words covered by any n-gram that occurs more than once (Gopher, n = 5..10).</summary>
    All,
}

/// <summary>
/// One call of DCLM's <c>repetition_filter(granularity, max_fraction, count_characters, ngram_char_ratio,
/// ignore_case)</c>: the page is dropped when the repeated fraction exceeds <paramref name="MaxFraction"/>.
/// </summary>
public sealed record RepetitionRule(RepetitionUnit Unit, double MaxFraction, bool CountCharacters = true, int N = 0, NgramMeasure? Measure = null, bool IgnoreCase = false)
{
    /// <summary>The measure used: as given, else Gopher's default for the n-gram size.</summary>
    public NgramMeasure EffectiveMeasure => Measure ?? (N is >= 2 and <= 4 ? NgramMeasure.MostCommon
        : N is >= 5 and <= 10 ? NgramMeasure.All
        : throw new ArgumentException("an n-gram rule outside n = 2..10 needs an explicit measure"));

    /// <summary>The rule name report.json counts drops under.</summary>
    public string DropRule => Unit switch
    {
        RepetitionUnit.Line => CountCharacters ? "duplicate_line_chars" : "duplicate_lines",
        RepetitionUnit.Paragraph => CountCharacters ? "duplicate_paragraph_chars" : "duplicate_paragraphs",
        _ => EffectiveMeasure == NgramMeasure.MostCommon ? $"top_{N}gram" : $"duplicate_{N}gram",
    };

    /// <summary>True when the page passes (DCLM returns the page).</summary>
    public bool Passes(RepetitionAnalysis analysis)
    {
        if (analysis.Text.Length == 0) return false;
        var view = IgnoreCase ? analysis.Lowered() : analysis;
        if (Unit != RepetitionUnit.Ngram)
        {
            var segments = view.Segments(Unit == RepetitionUnit.Paragraph);
            if (segments.Count == 1) return true;
            if (segments.Count == 0) return false;
            return view.RepeatedSegmentFraction(Unit == RepetitionUnit.Paragraph, CountCharacters) <= MaxFraction;
        }
        return view.RepeatedNgramFraction(N, EffectiveMeasure) <= MaxFraction;
    }
}
