using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher's <c>alphabetic_word_ratio_filter</c>: the share of <c>str.split()</c> words with no alphabetic code point
/// must not exceed the maximum (DCLM-Baseline: 0.2); a page without words is dropped.
/// </summary>
public sealed class AlphabeticWordFilter(double maximumNonAlphabeticFraction = 0.2) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "alphabetic_words";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int words = 0, withoutLetter = 0;
        foreach (var word in PythonText.Split(document.Text))
        {
            words++;
            if (!PythonText.Any(word, PythonText.IsAlpha)) withoutLetter++;
        }
        if (words == 0) return StepOutcome.Drop(Name);
        return (double)withoutLetter / words > maximumNonAlphabeticFraction ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
