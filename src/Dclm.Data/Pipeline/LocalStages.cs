using Dclm.Data.Decontamination;
using Dclm.Data.Documents;
using Dclm.Data.FastText;
using Dclm.Data.Filters;
using Dclm.Data.Language;
using Dclm.Data.Modifiers;
using Dclm.Data.Urls;

namespace Dclm.Data.Pipeline;

/// <summary>
/// Builds the per-document stages (everything except global dedup, quality selection and mixing) in
/// DCLM-Baseline's order (<c>dclm_baseline_refinedweb.yaml</c>): URL blocklists, extraction with URL removal and
/// newline normalization, language, then the RefinedWeb/Gopher heuristics and line corrections.
/// </summary>
public static class LocalStages
{
    /// <summary>The enabled local stages of <paramref name="config"/>, in pipeline order.</summary>
    public static IReadOnlyList<DocumentStage> Build(PipelineConfig config)
    {
        var stages = new List<DocumentStage>();
        if (config.UrlFilter.Enabled) stages.Add(UrlFilterStage(config));
        var h = config.Heuristics;
        var extract = new List<IDocumentStep>();
        if (config.Extraction.Enabled) extract.Add(new ExtractionStep(config.Extraction.MaxLinkDensity));
        if (config.UrlRemoval.Enabled) extract.Add(new UrlRemovalModifier(BuiltinLists.Read(Resolve(config, config.UrlRemoval.TopLevelDomains))));
        extract.Add(new NewlineNormalizer(h.NewlineMaxConsecutive));
        stages.Add(new DocumentStage("extract", extract));
        if (config.Language.Enabled)
        {
            var language = config.Language;
            var model = language.Model.Length == 0 ? LanguageIdentificationModel.Default : FastTextModels.Shared(PipelineConfigLoader.Resolve(config, language.Model));
            stages.Add(new DocumentStage("language", [new LanguageFilter(model, language.Keep, language.Threshold)])
            {
                Notes = new Dictionary<string, string> { ["model"] = language.Model.Length == 0 ? LanguageIdentificationModel.Name : language.Model },
            });
        }
        if (h.Enabled) stages.Add(new DocumentStage("heuristics", HeuristicSteps(h)));
        if (config.Decontamination.Enabled) stages.Add(DecontaminationStage(config));
        return stages;
    }

    private static string Resolve(PipelineConfig config, string nameOrPath) =>
        BuiltinLists.IsBuiltin(nameOrPath) ? nameOrPath : PipelineConfigLoader.Resolve(config, nameOrPath);

    private static DocumentStage UrlFilterStage(PipelineConfig config)
    {
        var steps = new List<IDocumentStep>();
        var notes = new Dictionary<string, string>();
        foreach (var list in config.UrlFilter.Banlists)
        {
            if (list.File.Length == 0)
            {
                notes[list.Name] = "skipped: no list file (DCLM downloads refinedweb_banned_domains_curated.txt from Hugging Face; set url_filter.banlists[].file)";
                continue;
            }
            var banlist = new UrlBanlist
            {
                Words = BuiltinLists.Read(Resolve(config, list.File)), IgnoreCharacters = list.IgnoreChars, BannedWordsNeeded = list.NumBannedSubstrs,
                ExactDomainMatch = list.ExactDomainMatch, MatchSubstrings = list.MatchSubstrings, CaseSensitive = list.CaseSensitive,
            };
            steps.Add(new UrlSubstringFilter(banlist, list.Name));
            notes[list.Name] = $"{list.File}: {banlist.Words.Count} entries";
        }
        return new DocumentStage("url_filter", steps) { Notes = notes };
    }

    private static DocumentStage DecontaminationStage(PipelineConfig config)
    {
        var settings = config.Decontamination;
        var tasks = EvalTaskFiles.Read(settings.Tasks.Select(t => PipelineConfigLoader.Resolve(config, t)));
        var index = new EvalNgramIndex(tasks, settings.NgramSize, settings.MinWords);
        var notes = new Dictionary<string, string>
        {
            ["tasks"] = string.Join(", ", tasks.Select(t => $"{t.Label} ({t.Items.Count} items)")),
            ["ngrams"] = $"{index.Count} distinct {settings.NgramSize}-grams (shorter fields of >= {settings.MinWords} words whole)",
            ["action"] = settings.Action,
        };
        return new DocumentStage("decontaminate", [new DecontaminationFilter(index, settings.Action == "drop")]) { Notes = notes };
    }

    private static List<IDocumentStep> HeuristicSteps(HeuristicsConfig h)
    {
        var unit = Enum.Parse<PageLengthUnit>(h.PageLengthUnit, ignoreCase: true);
        var steps = new List<IDocumentStep>
        {
            new PageLengthFilter(unit, h.MinWords, h.MaxWords, Text.WordModel.FastText, ignorePunctuation: true),
            new WordLengthFilter(h.MinMeanWordLength, h.MaxMeanWordLength),
            new SymbolRatioFilter(h.MaxSymbolToWordRatio),
            new BulletLinesFilter(h.MaxBulletLineFraction),
            new EllipsisLinesFilter(h.MaxEllipsisLineFraction),
            new AlphabeticWordFilter(h.MaxNonAlphabeticWordFraction),
            new StopWordFilter(h.MinStopWords, h.StopWordsUnique),
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
            steps.Add(new WordCounter());
            steps.Add(new UppercaseLineModifier(l.MaxUppercaseFraction));
            steps.Add(new NumericLineModifier(l.MaxDigitFraction));
            steps.Add(new CounterLineModifier());
            steps.Add(new LineLengthModifier(l.MinWordsPerLine));
            if (l.RemoveBoilerplateSubstrings)
            {
                foreach (var s in l.Substrings)
                {
                    steps.Add(new SubstringLineModifier(new SubstringLineRule
                    {
                        Banlist = s.Banlist, Location = Enum.Parse<SubstringLocation>(s.Location, ignoreCase: true), MaxLength = s.MaxLength,
                        RemoveSubstringOnly = s.RemoveSubstringOnly, CaseSensitive = s.CaseSensitive,
                    }));
                }
            }
            steps.Add(new WordRemovalRatioFilter(l.MaxRemovedWordFraction));
        }
        return steps;
    }
}
