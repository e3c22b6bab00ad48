using Dclm.Data.Documents;

namespace Dclm.Data.Filters;

/// <summary>Thresholds of Gopher's repetition rules (Rae et al. 2021, table A1), as DCLM's <c>massive_web_repetition_filters</c> applies them.</summary>
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

    /// <summary>Skip the paragraph rules (<c>skip_paragraph=True</c>).</summary>
    public bool SkipParagraphs { get; init; }

    /// <summary>The rules in DCLM's order.</summary>
    public IReadOnlyList<RepetitionRule> Rules()
    {
        var rules = new List<RepetitionRule> { new(RepetitionUnit.Line, DuplicateLineFraction, CountCharacters: false) };
        if (!SkipParagraphs) rules.Add(new(RepetitionUnit.Paragraph, DuplicateParagraphFraction, CountCharacters: false));
        rules.Add(new(RepetitionUnit.Line, DuplicateLineCharacterFraction));
        if (!SkipParagraphs) rules.Add(new(RepetitionUnit.Paragraph, DuplicateParagraphCharacterFraction));
        for (int n = 2; n <= 4; n++) rules.Add(new(RepetitionUnit.Ngram, TopNgramCharacterFractions[n - 2], N: n));
        for (int n = 5; n <= 10; n++) rules.Add(new(RepetitionUnit.Ngram, DuplicateNgramCharacterFractions[n - 5], N: n));
        return rules;
    }
}

/// <summary>
/// Gopher's repetition rules as DCLM's <c>massive_web_repetition_filters</c> applies them, in order, over one
/// <see cref="RepetitionAnalysis"/> of the page (lines, paragraphs and Unicode words computed once): duplicate
/// lines/paragraphs by count and by characters, the most common 2..4-gram's character share, and the share of word
/// characters covered by repeated 5..10-grams. Lengths are in code points.
/// </summary>
public sealed class RepetitionFilter(IReadOnlyList<RepetitionRule> rules) : IDocumentStep
{
    /// <summary>DCLM's massive-web rules with the given thresholds.</summary>
    public RepetitionFilter(RepetitionThresholds thresholds) : this(thresholds.Rules()) { }

    /// <inheritdoc />
    public string Name => "repetition";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        if (document.Text.Length == 0) return StepOutcome.Drop("repetition_empty");
        var analysis = new RepetitionAnalysis(document.Text);
        foreach (var rule in rules)
        {
            if (!rule.Passes(analysis)) return StepOutcome.Drop(rule.DropRule);
        }
        return StepOutcome.Keep;
    }
}
