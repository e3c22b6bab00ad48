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
    /// <summary>Wall-clock seconds spent in the stage (summed over threads for local stages).</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; set; }
    /// <summary>Free-form facts about the stage (filter size, threshold used, why it was skipped).</summary>
    [JsonPropertyName("notes")] public SortedDictionary<string, string> Notes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Records one removal.</summary>
    public void Removed(string rule) => RemovedBy[rule] = RemovedBy.GetValueOrDefault(rule) + 1;

    /// <summary>Adds <paramref name="other"/>'s counts into this one.</summary>
    public void Add(StageStatistics other)
    {
        DocsIn += other.DocsIn;
        DocsOut += other.DocsOut;
        BytesIn += other.BytesIn;
        BytesOut += other.BytesOut;
        Seconds += other.Seconds;
        foreach (var (rule, count) in other.RemovedBy) RemovedBy[rule] = RemovedBy.GetValueOrDefault(rule) + count;
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
}
