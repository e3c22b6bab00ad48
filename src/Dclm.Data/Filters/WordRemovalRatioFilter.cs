using Dclm.Data.Documents;
using Dclm.Data.Modifiers;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// RefinedWeb's <c>word_removal_ratio_filter</c>: drops a page when the line modifiers removed more than the given
/// share of the words <see cref="WordCounter"/> counted before them (DCLM-Baseline: 0.05), or when there were none.
/// </summary>
public sealed class WordRemovalRatioFilter(double maximumRemovedRatio = 0.05, WordModel model = WordModel.FastText, bool ignorePunctuation = true) : IDocumentStep
{
    private readonly WordCounter _counter = new(model, ignorePunctuation);

    /// <inheritdoc />
    public string Name => "word_removal_ratio";

    /// <summary>DCLM's decision from the two counts.</summary>
    public bool Keeps(int previousCount, int currentCount) =>
        previousCount != 0 && (double)(previousCount - currentCount) / previousCount <= maximumRemovedRatio;

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int previous = document.WordCountBeforeEdits ?? throw new InvalidOperationException("word_removal_ratio needs the word count taken before the line modifiers");
        return Keeps(previous, _counter.Count(document.Text)) ? StepOutcome.Keep : StepOutcome.Drop(Name);
    }
}
