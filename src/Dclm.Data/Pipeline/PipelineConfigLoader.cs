using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Dclm.Data.Pipeline;

/// <summary>Reads and validates pipeline.yaml into a <see cref="PipelineConfig"/>.</summary>
public static class PipelineConfigLoader
{
    /// <summary>Loads <paramref name="path"/>; errors name the file, the line and the field.</summary>
    public static PipelineConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: pipeline config not found");
        var yaml = File.ReadAllText(path);
        var config = Parse(yaml, path);
        config.BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return config;
    }

    /// <summary>Parses YAML text; <paramref name="name"/> labels errors.</summary>
    public static PipelineConfig Parse(string yaml, string name)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        PipelineConfig config;
        try
        {
            config = deserializer.Deserialize<PipelineConfig?>(yaml) ?? new PipelineConfig();
        }
        catch (YamlException error)
        {
            var message = (error.InnerException?.Message ?? error.Message).Split('\n')[0];
            throw new InvalidDataException($"{name}: line {error.Start.Line}: {message}");
        }
        Validate(config, name);
        return config;
    }

    /// <summary>Checks every range; throws naming the first bad field.</summary>
    public static void Validate(PipelineConfig config, string name)
    {
        void Require(bool ok, string field, string rule)
        {
            if (!ok) throw new InvalidDataException($"{name}: {field} {rule}");
        }
        static bool Fraction(double v) => v is >= 0 and <= 1;
        for (int i = 0; i < config.UrlFilter.Banlists.Count; i++)
        {
            var list = config.UrlFilter.Banlists[i];
            Require(list.NumBannedSubstrs >= 1, $"url_filter.banlists[{i}].num_banned_substrs", "must be at least 1");
            Require(!list.File.StartsWith("builtin:", StringComparison.Ordinal) || Urls.BuiltinLists.IsBuiltin(list.File), $"url_filter.banlists[{i}].file", $"names no built-in list (known: {string.Join(", ", Urls.BuiltinLists.Names)})");
        }
        Require(config.Extraction.MaxLinkDensity is > 0 and <= 1, "extraction.max_link_density", "must be in (0, 1]");
        Require(Fraction(config.Language.Threshold), "language.threshold", "must be in [0, 1]");
        Require(config.Language.Keep.Count > 0 && config.Language.Keep.All(l => l.Length > 0 && !l.Any(char.IsWhiteSpace)), "language.keep", "must list language codes such as en");
        var h = config.Heuristics;
        Require(h.NewlineMaxConsecutive >= 1, "heuristics.newline_max_consecutive", "must be at least 1");
        Require(h.PageLengthUnit is "word" or "char" or "line" or "paragraph", "heuristics.page_length_unit", "must be word, char, line or paragraph");
        Require(h.MinWords >= 0 && h.MaxWords >= h.MinWords, "heuristics.min_words/max_words", "must satisfy 0 <= min <= max");
        Require(h.MinMeanWordLength >= 0 && h.MaxMeanWordLength >= h.MinMeanWordLength, "heuristics.min/max_mean_word_length", "must satisfy 0 <= min <= max");
        Require(h.MaxSymbolToWordRatio >= 0, "heuristics.max_symbol_to_word_ratio", "must be non-negative");
        Require(Fraction(h.MaxBulletLineFraction), "heuristics.max_bullet_line_fraction", "must be in [0, 1]");
        Require(Fraction(h.MaxEllipsisLineFraction), "heuristics.max_ellipsis_line_fraction", "must be in [0, 1]");
        Require(Fraction(h.MaxNonAlphabeticWordFraction), "heuristics.max_non_alphabetic_word_fraction", "must be in [0, 1]");
        Require(h.Repetition.TopNgramCharFractions.Count == 3, "heuristics.repetition.top_ngram_char_fractions", "must list 3 values (n = 2, 3, 4)");
        Require(h.Repetition.DuplicateNgramCharFractions.Count == 6, "heuristics.repetition.duplicate_ngram_char_fractions", "must list 6 values (n = 5..10)");
        Require(Fraction(h.LineRemovals.MaxRemovedWordFraction), "heuristics.line_removals.max_removed_word_fraction", "must be in [0, 1]");
        for (int i = 0; i < h.LineRemovals.Substrings.Count; i++)
        {
            var rule = h.LineRemovals.Substrings[i];
            Require(rule.Banlist.Count > 0 && rule.Banlist.All(b => b.Length > 0), $"heuristics.line_removals.substrings[{i}].banlist", "must list non-empty strings");
            Require(rule.Location is "any" or "prefix" or "suffix", $"heuristics.line_removals.substrings[{i}].location", "must be any, prefix or suffix");
            Require(rule.MaxLength is null or >= 0, $"heuristics.line_removals.substrings[{i}].max_length", "must be non-negative");
        }
        var c = config.Decontamination;
        Require(!c.Enabled || c.Tasks.Count > 0, "decontamination.tasks", "must name at least one evaluation task file or folder when decontamination is enabled");
        Require(c.NgramSize is >= 1 and <= 64 && c.MinWords >= 1 && c.MinWords <= c.NgramSize, "decontamination.ngram_size/min_words", "must satisfy 1 <= min_words <= ngram_size <= 64");
        Require(c.Action is "drop" or "report", "decontamination.action", "must be drop or report");
        var d = config.Dedup;
        Require(d.Method is "bff" or "minhash" or "none", "dedup.method", "must be bff, minhash or none");
        Require(d.Bff.NgramSize is >= 1 and <= 64, "dedup.bff.ngram_size", "must be in 1..64");
        Require(d.Bff.MinNgramSize >= 1 && d.Bff.MinNgramSize <= d.Bff.NgramSize, "dedup.bff.min_ngram_size", "must be in 1..ngram_size");
        Require(Fraction(d.Bff.Threshold), "dedup.bff.threshold", "must be in [0, 1]");
        Require(d.Bff.FalsePositiveRate is > 0 and < 1, "dedup.bff.false_positive_rate", "must be in (0, 1)");
        Require(d.Bff.ExpectedNgrams >= 0, "dedup.bff.expected_ngrams", "must be non-negative");
        Require(d.Bff.MaxMemoryMb >= 1, "dedup.bff.max_memory_mb", "must be at least 1");
        Require(d.Bff.Partitions is >= 1 and <= 4096, "dedup.bff.partitions", "must be in 1..4096");
        Require(d.Minhash.NgramSize >= 1 && d.Minhash.Bands >= 1 && d.Minhash.Rows >= 1 && d.Minhash.Bands * d.Minhash.Rows <= 1024, "dedup.minhash", "needs ngram_size, bands, rows >= 1 and bands*rows <= 1024");
        Require(Fraction(d.Minhash.Threshold), "dedup.minhash.threshold", "must be in [0, 1]");
        Require(config.Quality.KeepTopFraction is > 0 and <= 1, "quality.keep_top_fraction", "must be in (0, 1]");
        Require(config.Quality.Threshold is null || Fraction(config.Quality.Threshold.Value), "quality.threshold", "must be in [0, 1]");
        var b = config.Balance;
        Require(b.By is "source" or "label", "balance.by", "must be source or label");
        Require(!b.Enabled || (b.Targets.Count > 0 && b.Targets.Values.All(v => v >= 0) && b.Targets.Values.Sum() > 0), "balance.targets", "must give non-negative proportions with a positive sum");
        Require(!b.Enabled || b.By != "label" || b.Model.Length > 0, "balance.model", "is needed for by: label");
        Require(config.Mixing.Weights.Values.All(w => w >= 0) && config.Mixing.DefaultWeight >= 0, "mixing.weights", "must be non-negative");
        Require(config.Output.DocumentsPerFile >= 1, "output.documents_per_file", "must be at least 1");
    }

    /// <summary>Resolves a path from the config relative to its file's folder.</summary>
    public static string Resolve(PipelineConfig config, string path) =>
        Path.IsPathRooted(path) || config.BaseDirectory.Length == 0 ? path : Path.GetFullPath(Path.Combine(config.BaseDirectory, path));
}
