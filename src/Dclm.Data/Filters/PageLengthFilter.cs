using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>Gopher/DCLM <c>page_length_filter</c>: keeps pages with min..max words (punctuation tokens not counted).</summary>
public sealed class PageLengthFilter(int minimumWords, int maximumWords) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "page_length";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int words = WordSplitter.CountWords(document.Text);
        return words < minimumWords || words > maximumWords ? StepOutcome.Drop(Name) : StepOutcome.Keep;
    }
}
