using System.Text;
using Dclm.Data.FastText;
using Dclm.Data.Text;
using Dclm.Data.Urls;

namespace Dclm.Data.Quality;

/// <summary>
/// DCLM's <c>classify_fasttext_hq_prob</c> over any supervised fastText model: the page is Python-stripped, its lines
/// (<c>str.splitlines</c>) joined with spaces, and predicted once (k = 1); the score is the top probability when the
/// top label is the positive one, else 1 minus it (DCLM: "__label__hq" against "__label__cc", for which this is
/// exactly DCLM's rule). fastText's probabilities carry its +1e-5, so scores lie in [−1e-5, 1 + 1e-5].
/// </summary>
public sealed class QualityScorer
{
    private readonly FastTextModel _model;

    /// <summary>Scores with <paramref name="model"/>, whose labels must include <paramref name="positiveLabel"/>.</summary>
    public QualityScorer(FastTextModel model, string positiveLabel = ClassifierTraining.PositiveLabel, string name = "model")
    {
        if (model.Args.Model != FastTextModelKind.Supervised) throw new InvalidDataException($"{name}: not a supervised fastText model");
        if (!model.Labels.Contains(positiveLabel))
            throw new InvalidDataException($"{name}: the model has no label {positiveLabel} (its labels: {string.Join(", ", model.Labels.Take(10))}); set quality.positive_label");
        _model = model;
        PositiveLabel = positiveLabel;
    }

    /// <summary>The label whose probability is the score.</summary>
    public string PositiveLabel { get; }

    /// <summary><c>" ".join(text.strip().splitlines())</c>.</summary>
    public static string Normalize(string text) => string.Join(' ', BuiltinLists.SplitLines(PythonText.Strip(text)));

    /// <summary>The page's quality score; 0 when the model finds no feature in it at all.</summary>
    public double Score(string text)
    {
        if (_model.PredictBest(Normalize(text)) is not { } prediction) return 0;
        return prediction.Name == PositiveLabel ? prediction.Probability : 1 - prediction.Probability;
    }
}
