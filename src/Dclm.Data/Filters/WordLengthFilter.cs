using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>Gopher <c>word_length_filter</c>: mean length of whitespace tokens must lie in [min, max] characters.</summary>
public sealed class WordLengthFilter(double minimumMean, double maximumMean) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "word_length";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        var words = WordSplitter.SplitOnWhitespace(document.Text);
        if (words.Count == 0) return StepOutcome.Drop(Name);
        double mean = words.Sum(w => (double)w.Length) / words.Count;
        return mean < minimumMean || mean > maximumMean ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
