using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>
/// DCLM's <c>word_counter_enricher(key="previous_word_count")</c>: remembers the page's word count (fastText words,
/// punctuation ignored) before the line modifiers, for <see cref="Filters.WordRemovalRatioFilter"/>.
/// </summary>
public sealed class WordCounter(WordModel model = WordModel.FastText, bool ignorePunctuation = true) : IDocumentStep
{
    /// <inheritdoc />
    public string Name => "word_count";

    /// <summary>DCLM's count for <paramref name="text"/>.</summary>
    public int Count(string text) => model == WordModel.FastText && ignorePunctuation ? FastTextWords.Count(text) : WordCounts.Count(text, model, ignorePunctuation);

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        document.WordCountBeforeEdits = Count(document.Text);
        return StepOutcome.Keep;
    }
}
