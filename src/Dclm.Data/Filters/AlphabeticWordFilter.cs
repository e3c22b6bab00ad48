using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher <c>alphabetic_word_ratio_filter</c>: the fraction of whitespace words containing no letter must not
/// exceed the maximum (DCLM: 0.2, i.e. at least 80% of words contain a letter).
/// </summary>
public sealed class AlphabeticWordFilter(double maximumNonAlphabeticFraction) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "alphabetic_words";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var words = WordSplitter.SplitOnWhitespace(document.Text);
        if (words.Count == 0) return StepOutcome.Drop(Name);
        int noLetter = words.Count(w => !w.Any(char.IsLetter));
        return (double)noLetter / words.Count > maximumNonAlphabeticFraction ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
