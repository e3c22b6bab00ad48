using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher's <c>word_length_filter</c>: the mean length in code points of Python's <c>str.split()</c> words must lie in
/// [min, max] (DCLM-Baseline: 3 to 10); a page without words is dropped.
/// </summary>
public sealed class WordLengthFilter(double minimumMean = 0, double maximumMean = double.PositiveInfinity) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "word_length";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        long characters = 0;
        int words = 0;
        foreach (var word in PythonText.Split(document.Text))
        {
            characters += PythonText.Length(word);
            words++;
        }
        if (words == 0) return StepOutcome.Drop(Name);
        double mean = (double)characters / words;
        return mean < minimumMean || mean > maximumMean ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
