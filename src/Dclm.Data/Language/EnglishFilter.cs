using Dclm.Data.Documents;
using Lingua;
using LinguaLanguage = Lingua.Language;

namespace Dclm.Data.Language;

/// <summary>
/// Language identification with Lingua's n-gram models (standing in for DCLM's fastText lid.176): keeps pages
/// whose English confidence is at least the threshold (DCLM: 0.65). Newlines become spaces first, as DCLM does
/// before calling fastText; only the first <see cref="MaximumCharacters"/> characters are scored because
/// Lingua's cost grows with text length while its decision settles within a few hundred words.
/// </summary>
public sealed class EnglishFilter : IDocumentStep
{
    private static readonly Lazy<Dictionary<string, LanguageDetector>> Detectors = new(() => new());
    private readonly LanguageDetector _detector;
    private readonly double _threshold;

    /// <summary>Creates the filter over the named candidate languages (ISO 639-1 codes; English is always included).</summary>
    public EnglishFilter(double threshold, IReadOnlyList<string> candidateLanguages, bool lowAccuracy, int maximumCharacters)
    {
        _threshold = threshold;
        MaximumCharacters = maximumCharacters;
        var languages = candidateLanguages.Select(ParseIsoCode).Append(LinguaLanguage.English).Distinct().OrderBy(l => l).ToArray();
        var key = string.Join(',', languages) + (lowAccuracy ? ":low" : ":high");
        lock (Detectors.Value)
        {
            if (!Detectors.Value.TryGetValue(key, out var detector))
            {
                var builder = LanguageDetectorBuilder.FromLanguages(languages).WithPreloadedLanguageModels();
                if (lowAccuracy) builder = builder.WithLowAccuracyMode();
                detector = builder.Build();
                Detectors.Value[key] = detector;
            }
            _detector = detector;
        }
    }

    /// <summary>Characters of the page that are scored.</summary>
    public int MaximumCharacters { get; }

    /// <inheritdoc />
    public string Name => "language";

    /// <summary>English confidence in [0, 1] for <paramref name="text"/>.</summary>
    public double EnglishConfidence(string text)
    {
        var sample = text.Length > MaximumCharacters ? text[..MaximumCharacters] : text;
        var values = _detector.ComputeLanguageConfidenceValues(sample.Replace('\n', ' '));
        return values.TryGetValue(LinguaLanguage.English, out var confidence) ? confidence : 0.0;
    }

    /// <inheritdoc />
    public StepOutcome Apply(Document document)
    {
        double score = EnglishConfidence(document.Text);
        document.LanguageScore = score;
        return score >= _threshold ? StepOutcome.Keep : StepOutcome.Drop("not_english");
    }

    private static LinguaLanguage ParseIsoCode(string code)
    {
        if (code.Length == 2 && Enum.TryParse<IsoCode6391>(code, ignoreCase: true, out var iso))
            return LanguageInfo.GetByIsoCode6391(iso);
        throw new ArgumentException($"unknown language code '{code}' in language.candidates");
    }
}
