using Dclm.Data.Documents;
using Dclm.Data.FastText;

namespace Dclm.Data.Language;

/// <summary>
/// DCLM's <c>detect_lang_whole_page_enricher(model=fasttext)</c> followed by <c>language_filter</c>: the whole page,
/// its newlines deleted (<c>text.replace("\n", "")</c>, which joins the words around them), goes to fastText's
/// lid.176 once (k = 1); the page is kept when the top label is a kept language and its probability is strictly
/// greater than the threshold (DCLM-Baseline: English, 0.65). A page of only spaces and ASCII punctuation gets no
/// prediction and is dropped, as DCLM's <c>is_space_or_punct</c> check does.
/// </summary>
public sealed class LanguageFilter : IDocumentStep
{
    private readonly FastTextModel _model;
    private readonly HashSet<string> _keep;
    private readonly double _threshold;
    private readonly string _dropRule;

    /// <summary>Creates the filter over a supervised fastText model whose labels are "__label__" + ISO code.</summary>
    public LanguageFilter(FastTextModel model, IReadOnlyList<string> keepLanguages, double threshold)
    {
        if (model.Args.Model != FastTextModelKind.Supervised) throw new ArgumentException("language identification needs a supervised fastText model");
        if (keepLanguages.Count == 0) throw new ArgumentException("language.keep must name at least one language");
        _model = model;
        _keep = keepLanguages.Select(l => FastTextDictionary.LabelPrefix + l).ToHashSet(StringComparer.Ordinal);
        var unknown = _keep.Where(label => !model.Labels.Contains(label)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"language.keep: the model has no label {string.Join(", ", unknown)}");
        _threshold = threshold;
        _dropRule = keepLanguages.Count == 1 && keepLanguages[0] == "en" ? "not_english" : "language_not_kept";
    }

    /// <inheritdoc />
    public string Name => "language";

    /// <summary>fastText's top label and probability for a page, DCLM's way; null for a page of spaces and punctuation.</summary>
    public FastTextPrediction? Identify(string text) =>
        IsSpaceOrPunctuation(text) ? null : _model.PredictBest(text, deleteNewlines: true);

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        if (Identify(document.Text) is not { } prediction) return StepOutcome.Drop(_dropRule);
        document.LanguageScore = prediction.Probability;
        return _keep.Contains(prediction.Name) && prediction.Probability > _threshold ? StepOutcome.Keep : StepOutcome.Drop(_dropRule);
    }

    /// <summary>
    /// DCLM's <c>language_filter</c> over an enricher's scores: kept when some kept language has a score strictly above
    /// the threshold (codes compare exactly: "EN" is not "en").
    /// </summary>
    public static bool Keeps(IReadOnlyDictionary<string, double> scores, IReadOnlyList<string> keepLanguages, double threshold) =>
        keepLanguages.Any(language => scores.TryGetValue(language, out double score) && score > threshold);

    /// <summary>DCLM's <c>is_space_or_punct</c>: empty, or only ' ' and Python's <c>string.punctuation</c>.</summary>
    public static bool IsSpaceOrPunctuation(string text)
    {
        foreach (char c in text)
        {
            if (c != ' ' && !(c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~')) return false;
        }
        return true;
    }
}
