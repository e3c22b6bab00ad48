using System.Text.Json;
using Dclm.Data.Documents;
using Dclm.Data.Filters;
using Dclm.Data.Language;
using Dclm.Data.Modifiers;
using Dclm.Data.Text;
using Dclm.Data.Urls;

namespace Dclm.Data.Tests;

/// <summary>
/// Replays one case of DCLM's own mapper tests (fixtures/dclm/mapper-cases.jsonl, transcribed by
/// scripts/transcribe-dclm-mapper-tests.py with its source file and line) on our implementation: binds the Python
/// call's arguments as Python would, runs our step, and says what DCLM's test expects and what we got.
/// </summary>
internal sealed class DclmMapperCase
{
    private readonly JsonElement _case;
    private readonly Dictionary<string, JsonElement> _arguments = new();

    public DclmMapperCase(JsonElement element)
    {
        _case = element;
        Source = element.GetProperty("source").GetString()!;
        Mapper = element.GetProperty("mapper").GetString()!;
        Bind();
    }

    public string Source { get; }
    public string Mapper { get; }

    /// <summary>Why the case cannot run here (DCLM data we do not have, features outside DCLM-Baseline), or null.</summary>
    public string? Unsupported =>
        Has("banlist_from_fname") ? "needs RefinedWeb's banned-domains file, which DCLM downloads and no registry carries"
        : Mapper == "page_length_filter" && String("length_type") == "sentence" ? "sentence counts need blingfire/NLTK, outside DCLM-Baseline"
        : null;

    // Python signatures (parameter names after the page, in order) of the mappers DCLM-Baseline uses.
    private static readonly Dictionary<string, string[]> Parameters = new()
    {
        ["page_length_filter"] = ["length_type", "min_length", "max_length"],
        ["repetition_filter"] = ["granularity", "max_fraction", "count_characters", "ngram_char_ratio", "ignore_case"],
        ["massive_web_repetition_filters"] = ["skip_paragraph"],
        ["word_length_filter"] = ["min_length", "max_length"],
        ["symbol_ratio_filter"] = ["max_symbol_to_word_ratio"],
        ["bullet_count_filter"] = ["max_bullet_start_ratio"],
        ["ellipsis_count_filter"] = ["max_ellipsis_end_ratio"],
        ["stop_word_filter"] = ["count_unique", "min_stop_word"],
        ["alphabetic_word_ratio_filter"] = ["max_ratio"],
        ["word_removal_ratio_filter"] = ["prev_word_count_key", "new_word_count_key", "max_removed_ratio", "ignore_punctuation"],
        ["url_substring_filter"] = ["banlist", "banlist_from_fname", "ignore_chars", "num_banned_substrs", "exact_domain_match", "match_substrings", "case_sensitive"],
        ["language_filter"] = ["keep_languages", "key", "threshold"],
        ["quality_filter"] = ["key", "threshold", "lower_better", "key_must_exist"],
        ["uppercase_ratio_line_modifier"] = ["max_ratio"],
        ["numeric_ratio_line_modifier"] = ["max_ratio"],
        ["counter_line_modifier"] = [],
        ["line_length_modifier"] = ["min_length", "max_length"],
        ["substring_line_modifier"] = ["banlist", "case_sensitive", "location", "max_length", "remove_substring_only"],
        ["url_removal_modifier"] = ["tlds_filepath"],
        ["newline_removal_modifier"] = ["max_consecutive"],
        ["split_paragraphs"] = ["text", "paragraph_end", "remove_empty"],
        ["split_words"] = ["text", "model", "ignore_punctuation", "ignore_whitespace"],
        ["word_counter_enricher"] = ["key", "overwrite", "ignore_punctuation"],
    };

    private void Bind()
    {
        var names = Parameters[Mapper];
        int i = 0;
        foreach (var value in _case.GetProperty("args").EnumerateArray()) _arguments[names[i++]] = value;
        foreach (var property in _case.GetProperty("kwargs").EnumerateObject()) _arguments[property.Name] = property.Value;
    }

    private bool Has(string name) => _arguments.TryGetValue(name, out var v) && v.ValueKind != JsonValueKind.Null;
    private string? String(string name) => Has(name) ? _arguments[name].GetString() : null;
    private double Number(string name, double fallback) => !Has(name) ? fallback : _arguments[name].ValueKind == JsonValueKind.String ? double.PositiveInfinity : _arguments[name].GetDouble();
    private bool Flag(string name, bool fallback) => Has(name) ? _arguments[name].GetBoolean() : fallback;
    private List<string> Strings(string name) => _arguments[name].ValueKind == JsonValueKind.Array
        ? _arguments[name].EnumerateArray().Select(e => e.GetString()!).ToList() : [_arguments[name].GetString()!];

    private JsonElement Page => _case.GetProperty("page");
    private string Text => Page.GetProperty("text").GetString()!;

    private static WordModel Model(string? name) => name switch { "uniseg" => WordModel.Uniseg, "split" => WordModel.Split, _ => WordModel.FastText };

    /// <summary>DCLM's expectation, rendered for comparison.</summary>
    public string Expected
    {
        get
        {
            var expected = _case.GetProperty("expected");
            // Helpers that return values compare `== []` too; that is an empty list, not a dropped page.
            if (Mapper == "split_paragraphs" && expected.TryGetProperty("kept", out var empty) && !empty.GetBoolean()) return "[]";
            if (expected.TryGetProperty("kept", out var kept))
                return !kept.GetBoolean() ? "dropped" : expected.TryGetProperty("text", out var text) ? "kept: " + JsonSerializer.Serialize(text.GetString()) : "kept";
            if (expected.TryGetProperty("length", out var length)) return Mapper is "language_filter" or "quality_filter" ? length.GetInt32() == 1 ? "kept" : "dropped" : length.GetRawText();
            return JsonSerializer.Serialize(expected.GetProperty("value"));
        }
    }

    /// <summary>Our result, rendered like <see cref="Expected"/>.</summary>
    public string Actual()
    {
        switch (Mapper)
        {
            case "split_paragraphs":
                return JsonSerializer.Serialize(Paragraphs.Split(String("text")!, String("paragraph_end") ?? "\n", Flag("remove_empty", true)));
            case "split_words":
                return WordCounts.Count(String("text"), Model(String("model")), Flag("ignore_punctuation", false), Flag("ignore_whitespace", true)).ToString();
            case "word_counter_enricher":
                return WordCounts.Count(Text, Model(String("model")), Flag("ignore_punctuation", true), Flag("ignore_whitespace", true)).ToString();
            case "language_filter":
            {
                var scores = Page.GetProperty(String("key") ?? "language_id_whole_page_langdetect").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
                return LanguageFilter.Keeps(scores, Strings("keep_languages"), Number("threshold", 0)) ? "kept" : "dropped";
            }
            case "quality_filter":
            {
                bool present = Page.TryGetProperty(String("key") ?? "fasttext_hq_prob", out var score);
                return Quality.QualityThreshold.Passes(present ? score.GetDouble() : null, Number("threshold", 0), Flag("lower_better", false)) ? "kept" : "dropped";
            }
            case "word_removal_ratio_filter":
            {
                int previous = Page.GetProperty(String("prev_word_count_key")!).GetInt32();
                var filter = new WordRemovalRatioFilter(Number("max_removed_ratio", 0.05), WordModel.FastText, Flag("ignore_punctuation", true));
                int current = String("new_word_count_key") is { } key && Page.TryGetProperty(key, out var given) ? given.GetInt32()
                    : new WordCounter(WordModel.FastText, Flag("ignore_punctuation", true)).Count(Text);
                return filter.Keeps(previous, current) ? "kept" : "dropped";
            }
            case "url_substring_filter":
            {
                var banlist = new UrlBanlist
                {
                    Words = Strings("banlist"), IgnoreCharacters = Has("ignore_chars") ? Strings("ignore_chars") : [],
                    BannedWordsNeeded = (int)Number("num_banned_substrs", 1), ExactDomainMatch = Flag("exact_domain_match", false),
                    MatchSubstrings = Flag("match_substrings", true), CaseSensitive = Flag("case_sensitive", false),
                };
                var document = new Document("t", Page.GetProperty("url").GetString()!, "test", "");
                return Render(new UrlSubstringFilter(banlist).Apply(document), document, modifies: false);
            }
        }
        var step = Step();
        var page = new Document("t", "", "test", Text);
        return Render(step.Apply(page), page, modifies: Mapper.EndsWith("_modifier"));
    }

    private static string Render(StepOutcome outcome, Document document, bool modifies) =>
        !outcome.IsKept ? "dropped" : modifies ? "kept: " + JsonSerializer.Serialize(document.Text) : "kept";

    private IDocumentStep Step() => Mapper switch
    {
        "page_length_filter" => new PageLengthFilter(Enum.Parse<PageLengthUnit>(String("length_type")!, ignoreCase: true), (int)Number("min_length", 1),
            Number("max_length", double.PositiveInfinity), Model(String("model")), Flag("ignore_punctuation", false)),
        "repetition_filter" => new RepetitionFilter([RepetitionRuleFromCall()]),
        "massive_web_repetition_filters" => new RepetitionFilter(new RepetitionThresholds { SkipParagraphs = Flag("skip_paragraph", false) }),
        "word_length_filter" => new WordLengthFilter(Number("min_length", 0), Number("max_length", double.PositiveInfinity)),
        "symbol_ratio_filter" => new SymbolRatioFilter(Number("max_symbol_to_word_ratio", 0.1)),
        "bullet_count_filter" => new BulletLinesFilter(Number("max_bullet_start_ratio", 0.9)),
        "ellipsis_count_filter" => new EllipsisLinesFilter(Number("max_ellipsis_end_ratio", 0.3)),
        "stop_word_filter" => new StopWordFilter((int)Number("min_stop_word", 2), Flag("count_unique", false)),
        "alphabetic_word_ratio_filter" => new AlphabeticWordFilter(Number("max_ratio", 0.2)),
        "uppercase_ratio_line_modifier" => new UppercaseLineModifier(Number("max_ratio", 0.5)),
        "numeric_ratio_line_modifier" => new NumericLineModifier(Number("max_ratio", 1.0)),
        "counter_line_modifier" => new CounterLineModifier(),
        "line_length_modifier" => new LineLengthModifier((int)Number("min_length", 0), Number("max_length", double.PositiveInfinity)),
        "substring_line_modifier" => new SubstringLineModifier(new SubstringLineRule
        {
            Banlist = Strings("banlist"), CaseSensitive = Flag("case_sensitive", false), Location = Enum.Parse<SubstringLocation>(String("location") ?? "any", ignoreCase: true),
            MaxLength = Has("max_length") ? (int)Number("max_length", 0) : null, RemoveSubstringOnly = Flag("remove_substring_only", false),
        }),
        "url_removal_modifier" => UrlRemovalModifier.Default(),
        "newline_removal_modifier" => new NewlineNormalizer((int)Number("max_consecutive", 2)),
        _ => throw new InvalidOperationException($"{Source}: no adapter for {Mapper}"),
    };

    private RepetitionRule RepetitionRuleFromCall()
    {
        var granularity = _arguments["granularity"];
        bool ngrams = granularity.ValueKind == JsonValueKind.Number;
        var unit = ngrams ? RepetitionUnit.Ngram : granularity.GetString() == "paragraph" ? RepetitionUnit.Paragraph : RepetitionUnit.Line;
        NgramMeasure? measure = String("ngram_char_ratio") switch { "most_common" => NgramMeasure.MostCommon, "all" => NgramMeasure.All, _ => null };
        return new RepetitionRule(unit, Number("max_fraction", 0), Flag("count_characters", true), ngrams ? granularity.GetInt32() : 0, measure, Flag("ignore_case", false));
    }
}
