using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher <c>stop_word_filter</c>: the page must contain at least the minimum number of occurrences of the
/// eight stop words "the, be, to, of, and, that, have, with" (as whole whitespace tokens, case-insensitive).
/// </summary>
public sealed class StopWordFilter(int minimumStopWords) : IDocumentStep
{
    private static readonly HashSet<string> StopWords =
        new(["the", "be", "to", "of", "and", "that", "have", "with"], StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public string Name => "stop_words";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int count = 0;
        foreach (var word in WordSplitter.SplitOnWhitespace(document.Text))
        {
            if (StopWords.Contains(word) && ++count >= minimumStopWords) return StepOutcome.Keep;
        }
        return minimumStopWords <= 0 ? StepOutcome.Keep : StepOutcome.Drop(Name);
    }
}
