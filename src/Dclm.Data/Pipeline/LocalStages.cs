using Dclm.Data.Documents;
using Dclm.Data.FastText;
using Dclm.Data.Filters;
using Dclm.Data.Language;

namespace Dclm.Data.Pipeline;

/// <summary>Builds the per-document stages (everything except global dedup, quality percentile and mixing).</summary>
public static class LocalStages
{
    /// <summary>The enabled local stages of <paramref name="config"/>, in pipeline order.</summary>
    public static IReadOnlyList<DocumentStage> Build(PipelineConfig config)
    {
        var stages = new List<DocumentStage>();
        var h = config.Heuristics;
        var extract = new List<IDocumentStep>();
        if (config.Extraction.Enabled) extract.Add(new ExtractionStep(config.Extraction.MaxLinkDensity));
        extract.Add(new NewlineNormalizer(h.NewlineMaxConsecutive));
        stages.Add(new DocumentStage("extract", extract));
        if (config.Language.Enabled)
        {
            var language = config.Language;
            var model = language.Model.Length == 0 ? LanguageIdentificationModel.Default : FastTextModels.Shared(PipelineConfigLoader.Resolve(config, language.Model));
            stages.Add(new DocumentStage("language", [new LanguageFilter(model, language.Keep, language.Threshold)]));
        }
        if (h.Enabled)
        {
            var steps = new List<IDocumentStep>
            {
                new PageLengthFilter(h.MinWords, h.MaxWords),
                new WordLengthFilter(h.MinMeanWordLength, h.MaxMeanWordLength),
                new SymbolRatioFilter(h.MaxSymbolToWordRatio),
                new BulletLinesFilter(h.MaxBulletLineFraction),
                new EllipsisLinesFilter(h.MaxEllipsisLineFraction),
                new AlphabeticWordFilter(h.MaxNonAlphabeticWordFraction),
                new StopWordFilter(h.MinStopWords),
            };
            var r = h.Repetition;
            if (r.Enabled)
            {
                steps.Add(new RepetitionFilter(new RepetitionThresholds
                {
                    DuplicateLineFraction = r.DuplicateLineFraction,
                    DuplicateParagraphFraction = r.DuplicateParagraphFraction,
                    DuplicateLineCharacterFraction = r.DuplicateLineCharFraction,
                    DuplicateParagraphCharacterFraction = r.DuplicateParagraphCharFraction,
                    TopNgramCharacterFractions = r.TopNgramCharFractions.ToArray(),
                    DuplicateNgramCharacterFractions = r.DuplicateNgramCharFractions.ToArray(),
                }));
            }
            var l = h.LineRemovals;
            if (l.Enabled)
            {
                steps.Add(new LineRemovals(new LineRemovalSettings
                {
                    MaximumUppercaseFraction = l.MaxUppercaseFraction,
                    MaximumDigitFraction = l.MaxDigitFraction,
                    MinimumWordsPerLine = l.MinWordsPerLine,
                    RemoveBoilerplateSubstrings = l.RemoveBoilerplateSubstrings,
                    MaximumRemovedWordFraction = l.MaxRemovedWordFraction,
                }));
            }
            stages.Add(new DocumentStage("heuristics", steps));
        }
        return stages;
    }
}
