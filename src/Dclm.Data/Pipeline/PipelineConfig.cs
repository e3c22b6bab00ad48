using Dclm.Data.Filters;

namespace Dclm.Data.Pipeline;

/// <summary>
/// The whole pipeline configuration, bound from pipeline.yaml (snake_case keys). Defaults reproduce DCLM-Baseline;
/// <see cref="PipelineConfigLoader"/> validates every field before a run starts.
/// </summary>
public sealed class PipelineConfig
{
    /// <summary>RefinedWeb's URL blocklists (DCLM: four url_substring_filter calls).</summary>
    public UrlFilterConfig UrlFilter { get; set; } = new();
    /// <summary>HTML to text.</summary>
    public ExtractionConfig Extraction { get; set; } = new();
    /// <summary>DCLM's url_removal_modifier.</summary>
    public UrlRemovalConfig UrlRemoval { get; set; } = new();
    /// <summary>Language identification.</summary>
    public LanguageConfig Language { get; set; } = new();
    /// <summary>RefinedWeb and Gopher heuristics.</summary>
    public HeuristicsConfig Heuristics { get; set; } = new();
    /// <summary>Overlap with evaluation tasks.</summary>
    public DecontaminationConfig Decontamination { get; set; } = new();
    /// <summary>Global deduplication.</summary>
    public DedupConfig Dedup { get; set; } = new();
    /// <summary>Quality classifier filtering.</summary>
    public QualityConfig Quality { get; set; } = new();
    /// <summary>Balancing by down-sampling to target proportions.</summary>
    public BalanceConfig Balance { get; set; } = new();
    /// <summary>Source mixing.</summary>
    public MixingConfig Mixing { get; set; } = new();
    /// <summary>Output layout.</summary>
    public OutputConfig Output { get; set; } = new();
    /// <summary>Folder of the YAML file, for resolving relative paths; empty for built-in defaults.</summary>
    public string BaseDirectory { get; set; } = "";
}

/// <summary>RefinedWeb's URL blocklists, applied to each page's URL before anything else.</summary>
public sealed class UrlFilterConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>The url_substring_filter calls, in order (DCLM-Baseline's four by default).</summary>
    public List<UrlBanlistYaml> Banlists { get; set; } =
    [
        new() { Name = "banned_domain", File = "", ExactDomainMatch = true, IgnoreChars = ["www"] },
        new() { Name = "banned_url_word_strict", File = "builtin:strict", IgnoreChars = ["-", "."] },
        new() { Name = "banned_url_word_hard", File = "builtin:hard", MatchSubstrings = false },
        new() { Name = "banned_url_word_soft", File = "builtin:soft", NumBannedSubstrs = 2, MatchSubstrings = false },
    ];
}

/// <summary>One url_substring_filter call.</summary>
public sealed class UrlBanlistYaml
{
    /// <summary>Rule name in report.json.</summary>
    public string Name { get; set; } = "banned_url";
    /// <summary>One banned word or domain per line (relative to the YAML file), or builtin:strict|hard|soft; empty: skipped with a note.</summary>
    public string File { get; set; } = "";
    /// <summary>Strings deleted from the URL before matching.</summary>
    public List<string> IgnoreChars { get; set; } = [];
    /// <summary>Distinct banned words needed to drop a page.</summary>
    public int NumBannedSubstrs { get; set; } = 1;
    /// <summary>Compare the URL's network location with the list exactly.</summary>
    public bool ExactDomainMatch { get; set; }
    /// <summary>Words may sit inside longer words; false needs word boundaries.</summary>
    public bool MatchSubstrings { get; set; } = true;
    /// <summary>Case-sensitive matching.</summary>
    public bool CaseSensitive { get; set; }
}

/// <summary>DCLM's url_removal_modifier.</summary>
public sealed class UrlRemovalConfig
{
    /// <summary>Remove URLs and IP addresses from the text.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Top-level domains, one per line (relative to the YAML file), or builtin:iana_tlds.</summary>
    public string TopLevelDomains { get; set; } = "builtin:iana_tlds";
}

/// <summary>Main-content extraction settings.</summary>
public sealed class ExtractionConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Blocks with a larger share of link text are treated as navigation.</summary>
    public double MaxLinkDensity { get; set; } = 0.6;
}

/// <summary>Language identification settings (DCLM: fastText lid.176 on the whole page, English above 0.65).</summary>
public sealed class LanguageConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>A supervised fastText model (.bin or .ftz) with "__label__xx" labels, relative to the YAML file; empty: the embedded lid.176.ftz.</summary>
    public string Model { get; set; } = "";
    /// <summary>Language codes to keep (DCLM: en).</summary>
    public List<string> Keep { get; set; } = ["en"];
    /// <summary>Keep a page when its top label is kept with a probability strictly greater than this (DCLM: 0.65).</summary>
    public double Threshold { get; set; } = 0.65;
}

/// <summary>RefinedWeb/Gopher heuristic settings (DCLM-Baseline values).</summary>
public sealed class HeuristicsConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Collapse longer newline runs to this many.</summary>
    public int NewlineMaxConsecutive { get; set; } = 2;
    /// <summary>What page_length_filter counts: word (fastText words, punctuation ignored), char, line or paragraph.</summary>
    public string PageLengthUnit { get; set; } = "word";
    /// <summary>Minimum words per page.</summary>
    public int MinWords { get; set; } = 50;
    /// <summary>Maximum words per page.</summary>
    public int MaxWords { get; set; } = 100_000;
    /// <summary>Minimum mean word length.</summary>
    public double MinMeanWordLength { get; set; } = 3;
    /// <summary>Maximum mean word length.</summary>
    public double MaxMeanWordLength { get; set; } = 10;
    /// <summary>Maximum (#, ellipsis) symbols per word.</summary>
    public double MaxSymbolToWordRatio { get; set; } = 0.1;
    /// <summary>Maximum fraction of lines starting with a bullet.</summary>
    public double MaxBulletLineFraction { get; set; } = 0.9;
    /// <summary>Maximum fraction of lines ending with an ellipsis.</summary>
    public double MaxEllipsisLineFraction { get; set; } = 0.3;
    /// <summary>Maximum fraction of words without any letter.</summary>
    public double MaxNonAlphabeticWordFraction { get; set; } = 0.2;
    /// <summary>Minimum stop-word occurrences.</summary>
    public int MinStopWords { get; set; } = 2;
    /// <summary>Count each stop word once (DCLM's count_unique).</summary>
    public bool StopWordsUnique { get; set; }
    /// <summary>Gopher repetition thresholds.</summary>
    public RepetitionYaml Repetition { get; set; } = new();
    /// <summary>RefinedWeb line removals.</summary>
    public LineRemovalYaml LineRemovals { get; set; } = new();
}

/// <summary>Gopher repetition thresholds as written in YAML.</summary>
public sealed class RepetitionYaml
{
    /// <summary>Run the repetition rules.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>See <see cref="RepetitionThresholds.DuplicateLineFraction"/>.</summary>
    public double DuplicateLineFraction { get; set; } = 0.3;
    /// <summary>See <see cref="RepetitionThresholds.DuplicateParagraphFraction"/>.</summary>
    public double DuplicateParagraphFraction { get; set; } = 0.3;
    /// <summary>See <see cref="RepetitionThresholds.DuplicateLineCharacterFraction"/>.</summary>
    public double DuplicateLineCharFraction { get; set; } = 0.2;
    /// <summary>See <see cref="RepetitionThresholds.DuplicateParagraphCharacterFraction"/>.</summary>
    public double DuplicateParagraphCharFraction { get; set; } = 0.2;
    /// <summary>Most-common n-gram character fraction for n = 2, 3, 4.</summary>
    public List<double> TopNgramCharFractions { get; set; } = [0.20, 0.18, 0.16];
    /// <summary>Duplicated n-gram character fraction for n = 5..10.</summary>
    public List<double> DuplicateNgramCharFractions { get; set; } = [0.15, 0.14, 0.13, 0.12, 0.11, 0.10];
}

/// <summary>RefinedWeb's line-wise corrections as written in YAML.</summary>
public sealed class LineRemovalYaml
{
    /// <summary>Run the line removals.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>uppercase_ratio_line_modifier: lines with a larger share of uppercase are removed.</summary>
    public double MaxUppercaseFraction { get; set; } = 0.5;
    /// <summary>numeric_ratio_line_modifier: lines with a larger share of digits are removed.</summary>
    public double MaxDigitFraction { get; set; } = 0.999999;
    /// <summary>line_length_modifier: lines with fewer words are removed.</summary>
    public int MinWordsPerLine { get; set; } = 2;
    /// <summary>Run substring_line_modifier with <see cref="Substrings"/>.</summary>
    public bool RemoveBoilerplateSubstrings { get; set; } = true;
    /// <summary>The substring_line_modifier calls, in order (DCLM-Baseline's three by default).</summary>
    public List<SubstringYaml> Substrings { get; set; } =
    [
        new() { Banlist = ["items in cart"], Location = "any", MaxLength = 10, RemoveSubstringOnly = true },
        new() { Banlist = ["Read more..."], Location = "suffix", MaxLength = 10, RemoveSubstringOnly = true },
        new() { Banlist = ["Sign-in"], Location = "prefix", MaxLength = 10, RemoveSubstringOnly = true },
    ];
    /// <summary>word_removal_ratio_filter: drop the page if the corrections removed a larger share of its words.</summary>
    public double MaxRemovedWordFraction { get; set; } = 0.05;
}

/// <summary>One substring_line_modifier call.</summary>
public sealed class SubstringYaml
{
    /// <summary>Banned strings (joined into one regular expression, unescaped, as DCLM does).</summary>
    public List<string> Banlist { get; set; } = [];
    /// <summary>any, prefix or suffix.</summary>
    public string Location { get; set; } = "any";
    /// <summary>Only lines of at most this many words are touched (null: all).</summary>
    public int? MaxLength { get; set; }
    /// <summary>Delete only the matched text; false removes the whole line.</summary>
    public bool RemoveSubstringOnly { get; set; }
    /// <summary>Case-sensitive matching.</summary>
    public bool CaseSensitive { get; set; }
}

/// <summary>Decontamination against evaluation tasks (off unless tasks are named).</summary>
public sealed class DecontaminationConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; }
    /// <summary>Evaluation task files (JSONL, .jsonl.gz), folders of them or suite YAML files, relative to the YAML file.</summary>
    public List<string> Tasks { get; set; } = [];
    /// <summary>Words per n-gram (13, as in GPT-3's and DCLM's overlap checks).</summary>
    public int NgramSize { get; set; } = 13;
    /// <summary>A text field shorter than <see cref="NgramSize"/> but with at least this many words counts as one n-gram.</summary>
    public int MinWords { get; set; } = 8;
    /// <summary>drop: remove overlapping pages; report: keep them, count them and mark them ("contaminated_by").</summary>
    public string Action { get; set; } = "drop";
}

/// <summary>Deduplication settings.</summary>
public sealed class DedupConfig
{
    /// <summary>Drop documents whose normalized text was seen before (not a DCLM-Baseline step, so off by default).</summary>
    public bool Exact { get; set; }
    /// <summary>"bff", "minhash" or "none".</summary>
    public string Method { get; set; } = "bff";
    /// <summary>BFF settings.</summary>
    public BffYaml Bff { get; set; } = new();
    /// <summary>MinHash-LSH settings.</summary>
    public MinHashYaml Minhash { get; set; } = new();
}

/// <summary>BFF settings (DCLM: 13-grams, threshold 0.8, fp 0.01, old-both removal).</summary>
public sealed class BffYaml
{
    /// <summary>Words per n-gram.</summary>
    public int NgramSize { get; set; } = 13;
    /// <summary>Shorter paragraphs with at least this many words are hashed whole.</summary>
    public int MinNgramSize { get; set; } = 13;
    /// <summary>Paragraphs (and documents) with a larger contained share are removed.</summary>
    public double Threshold { get; set; } = 0.8;
    /// <summary>Target Bloom filter false-positive rate.</summary>
    public double FalsePositiveRate { get; set; } = 0.01;
    /// <summary>Expected distinct n-grams; 0 estimates it from the input.</summary>
    public long ExpectedNgrams { get; set; }
    /// <summary>Refuse to allocate a filter larger than this many MiB.</summary>
    public long MaxMemoryMb { get; set; } = 4096;
    /// <summary>
    /// Split the filter by n-gram hash over this many workers (<c>--phase dedup --partition p/P</c>). Above 1, the
    /// n-grams of removed paragraphs are inserted too (the variant that partitions exactly).
    /// </summary>
    public int Partitions { get; set; } = 1;
}

/// <summary>MinHash-LSH settings.</summary>
public sealed class MinHashYaml
{
    /// <summary>Words per shingle.</summary>
    public int NgramSize { get; set; } = 5;
    /// <summary>LSH bands.</summary>
    public int Bands { get; set; } = 20;
    /// <summary>Rows (hashes) per band.</summary>
    public int Rows { get; set; } = 5;
    /// <summary>Estimated Jaccard similarity at or above which a candidate pair counts as duplicate.</summary>
    public double Threshold { get; set; } = 0.8;
}

/// <summary>Quality classifier settings.</summary>
public sealed class QualityConfig
{
    /// <summary>Run the stage (needs a model).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>A supervised fastText model (relative to the YAML file), e.g. DCLM's openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin; a missing file skips the stage with a note in the report.</summary>
    public string Model { get; set; } = "../data/work/quality.bin";
    /// <summary>The label whose probability is the score (DCLM: __label__hq; a top label other than it scores 1 − p).</summary>
    public string PositiveLabel { get; set; } = "__label__hq";
    /// <summary>Keep the top fraction by score (DCLM: 0.1); ignored when <see cref="Threshold"/> is set.</summary>
    public double KeepTopFraction { get; set; } = 0.1;
    /// <summary>Fixed minimum score instead of a top fraction.</summary>
    public double? Threshold { get; set; }
}

/// <summary>Balancing settings: target proportions per source or per classifier label, reached by down-sampling.</summary>
public sealed class BalanceConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; }
    /// <summary>source, or label (the top label of <see cref="Model"/>, without "__label__").</summary>
    public string By { get; set; } = "source";
    /// <summary>A supervised fastText model (relative to the YAML file) whose top label groups the pages, for by: label.</summary>
    public string Model { get; set; } = "";
    /// <summary>Group → proportion (normalized); pages of other groups are dropped.</summary>
    public Dictionary<string, double> Targets { get; set; } = new();
    /// <summary>Seed of the choice within each group.</summary>
    public int Seed { get; set; } = 1234;
}

/// <summary>Mixing settings.</summary>
public sealed class MixingConfig
{
    /// <summary>Run the stage.</summary>
    public bool Enabled { get; set; }
    /// <summary>Relative weight per source; sources not named get <see cref="DefaultWeight"/>.</summary>
    public Dictionary<string, double> Weights { get; set; } = new();
    /// <summary>Weight of sources not listed.</summary>
    public double DefaultWeight { get; set; } = 1.0;
    /// <summary>Seed for the deterministic sampler.</summary>
    public int Seed { get; set; } = 1234;
}

/// <summary>Output settings.</summary>
public sealed class OutputConfig
{
    /// <summary>Documents per output file.</summary>
    public int DocumentsPerFile { get; set; } = 10_000;
}
