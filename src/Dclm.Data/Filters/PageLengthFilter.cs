using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>What DCLM's <c>page_length_filter</c> counts.</summary>
public enum PageLengthUnit
{
    /// <summary>Words of <see cref="WordModel"/> (DCLM-Baseline: fastText tokens, punctuation ignored).</summary>
    Word,
    /// <summary>Code points.</summary>
    Char,
    /// <summary>Non-blank lines.</summary>
    Line,
    /// <summary>Non-blank "\n\n"-separated paragraphs.</summary>
    Paragraph,
}

/// <summary>
/// DCLM's <c>page_length_filter(length_type, min_length, max_length, **split_words kwargs)</c>: keeps pages whose
/// length lies in [min, max]. DCLM-Baseline: 50 to 100,000 fastText words not counting punctuation.
/// </summary>
public sealed class PageLengthFilter(PageLengthUnit unit, int minimum, double maximum = double.PositiveInfinity, WordModel model = WordModel.FastText, bool ignorePunctuation = false) : IDocumentStep
{
    [ThreadStatic] private static List<(int, int)>? _pieces;

    /// <inheritdoc />
    public string Name => "page_length";

    /// <summary>The page's length in the filter's unit.</summary>
    public int Length(string text)
    {
        switch (unit)
        {
            case PageLengthUnit.Word:
                return model == WordModel.FastText && ignorePunctuation ? FastTextWords.Count(text) : WordCounts.Count(text, model, ignorePunctuation);
            case PageLengthUnit.Char:
                return PythonText.Length(text);
            default:
                var pieces = _pieces ??= new();
                Paragraphs.Split(text, unit == PageLengthUnit.Line ? "\n" : "\n\n", removeEmpty: true, pieces);
                return pieces.Count;
        }
    }

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int length = Length(document.Text);
        return length < minimum || length > maximum ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
