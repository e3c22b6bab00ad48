using System.Text.Json.Serialization;

namespace Dclm.Data.Pipeline;

/// <summary>Counts for one stage: documents and UTF-8 bytes in and out, and removals per rule.</summary>
public sealed class StageStatistics
{
    /// <summary>Stage name.</summary>
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    /// <summary>Documents entering the stage.</summary>
    [JsonPropertyName("docs_in")] public long DocsIn { get; set; }
    /// <summary>Documents leaving the stage.</summary>
    [JsonPropertyName("docs_out")] public long DocsOut { get; set; }
    /// <summary>Bytes of text entering the stage.</summary>
    [JsonPropertyName("bytes_in")] public long BytesIn { get; set; }
    /// <summary>Bytes of text leaving the stage.</summary>
    [JsonPropertyName("bytes_out")] public long BytesOut { get; set; }
    /// <summary>Documents removed per rule.</summary>
    [JsonPropertyName("removed_by")] public SortedDictionary<string, long> RemovedBy { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Documents kept but counted per rule (report-only checks); absent when none.</summary>
    [JsonPropertyName("flagged_by"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public SortedDictionary<string, long>? FlaggedBy { get; set; }
    /// <summary>
    /// Wall-clock seconds spent in the stage (summed over threads for local stages). Kept out of report.json and the
    /// stats files, which must be byte-identical however the run was interrupted; they go to the timings files.
    /// </summary>
    [JsonIgnore] public double Seconds { get; set; }
    /// <summary>Free-form facts about the stage (filter size, threshold used, why it was skipped).</summary>
    [JsonPropertyName("notes")] public SortedDictionary<string, string> Notes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Records one removal.</summary>
    public void Removed(string rule) => RemovedBy[rule] = RemovedBy.GetValueOrDefault(rule) + 1;

    /// <summary>Records one kept-but-flagged document.</summary>
    public void Flagged(string rule)
    {
        FlaggedBy ??= new(StringComparer.Ordinal);
        FlaggedBy[rule] = FlaggedBy.GetValueOrDefault(rule) + 1;
    }

    /// <summary>Adds <paramref name="other"/>'s counts into this one.</summary>
    public void Add(StageStatistics other)
    {
        DocsIn += other.DocsIn;
        DocsOut += other.DocsOut;
        BytesIn += other.BytesIn;
        BytesOut += other.BytesOut;
        Seconds += other.Seconds;
        foreach (var (rule, count) in other.RemovedBy) RemovedBy[rule] = RemovedBy.GetValueOrDefault(rule) + count;
        foreach (var (rule, count) in other.FlaggedBy ?? []) { FlaggedBy ??= new(StringComparer.Ordinal); FlaggedBy[rule] = FlaggedBy.GetValueOrDefault(rule) + count; }
        foreach (var (key, value) in other.Notes) Notes[key] = value;
    }
}

/// <summary>The report written to report.json.</summary>
public sealed class CurationReport
{
    /// <summary>Stages in pipeline order.</summary>
    [JsonPropertyName("stages")] public List<StageStatistics> Stages { get; set; } = new();
    /// <summary>Documents written per source.</summary>
    [JsonPropertyName("output_by_source")] public SortedDictionary<string, long> OutputBySource { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Output files, relative to the output folder.</summary>
    [JsonPropertyName("output_files")] public List<string> OutputFiles { get; set; } = new();
    /// <summary>Input units processed.</summary>
    [JsonPropertyName("input_units")] public int InputUnits { get; set; }

    /// <summary>Seconds per stage (timings.json), for display; not part of report.json.</summary>
    [JsonIgnore] public StageTimings Timings { get; set; } = new();
}

/// <summary>
/// Where the time went: seconds per stage, written next to the outputs they describe (<c>parts/part-N.timings.json</c>,
/// <c>global/dedup.timings.json</c>, <c>timings.json</c>) so report.json and the stats files stay byte-identical between
/// a clean run and an interrupted, resumed one. A resumed run counts its earlier attempts' finished units only once.
/// </summary>
public sealed class StageTimings
{
    /// <summary>Seconds per stage name, in pipeline order.</summary>
    [JsonPropertyName("stages")] public List<StageTime> Stages { get; set; } = new();

    /// <summary>Adds <paramref name="seconds"/> to <paramref name="stage"/>.</summary>
    public void Add(string stage, double seconds)
    {
        var entry = Stages.Find(s => s.Name == stage);
        if (entry is null) Stages.Add(new StageTime { Name = stage, Seconds = seconds });
        else entry.Seconds += seconds;
    }

    /// <summary>Seconds of <paramref name="stage"/>, 0 when it did not run.</summary>
    public double Of(string stage) => Stages.Find(s => s.Name == stage)?.Seconds ?? 0;

    /// <summary>Timings of the given stage rows.</summary>
    public static StageTimings From(IEnumerable<StageStatistics> stages)
    {
        var timings = new StageTimings();
        foreach (var stage in stages) timings.Add(stage.Name, stage.Seconds);
        return timings;
    }

    /// <summary>Reads a timings file; a missing or unreadable one counts as no time (timings are informative).</summary>
    public static StageTimings Read(string path)
    {
        try
        {
            return File.Exists(path) ? System.Text.Json.JsonSerializer.Deserialize<StageTimings>(File.ReadAllText(path)) ?? new() : new();
        }
        catch (System.Text.Json.JsonException)
        {
            return new();
        }
    }
}

/// <summary>One stage's seconds.</summary>
public sealed class StageTime
{
    /// <summary>Stage name.</summary>
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    /// <summary>Wall-clock seconds (summed over threads for local stages).</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; set; }
}
