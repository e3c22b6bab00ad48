using Dclm.Data.Documents;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// Gopher's <c>stop_word_filter</c>: the page must hold at least the minimum number of <c>str.split()</c> words that
/// lowercase to "the", "be", "to", "of", "and", "that", "have" or "with" (DCLM-Baseline: 2, counting repeats; with
/// <paramref name="countUnique"/> only distinct stop words count).
/// </summary>
public sealed class StopWordFilter(int minimumStopWords = 2, bool countUnique = false) : IDocumentStep
{
    private static readonly string[] StopWords = ["the", "be", "to", "of", "and", "that", "have", "with"];

    /// <inheritdoc />
    public string Name => "stop_words";

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        int count = 0, seen = 0;
        foreach (var word in PythonText.Split(document.Text))
        {
            if (word.Length is < 2 or > 4) continue;
            for (int s = 0; s < StopWords.Length; s++)
            {
                if (!PythonText.LowerEquals(word, StopWords[s])) continue;
                if (countUnique)
                {
                    if ((seen & (1 << s)) != 0) break;
                    seen |= 1 << s;
                }
                if (++count >= minimumStopWords) return StepOutcome.Keep;
                break;
            }
        }
        return StepOutcome.Drop(Name);
    }
}
