using System.Text;
using System.Text.Json;
using Dclm.Data.Dedup;
using Dclm.Data.Documents;
using Dclm.Data.Inputs;
using Dclm.Data.IO;
using Dclm.Formats;

namespace Dclm.Data.Pipeline;

/// <summary>What a finished unit left behind: its statistics and the BFF n-gram count of its surviving text.</summary>
public sealed class UnitResult
{
    /// <summary>Unit index in the plan.</summary>
    public int Unit { get; set; }
    /// <summary>Input files of the unit, relative to the input root.</summary>
    public List<string> Files { get; set; } = new();
    /// <summary>Per-stage counts, starting with "read".</summary>
    public List<StageStatistics> Stages { get; set; } = new();
    /// <summary>N-grams BFF will see from this unit's documents (sizes the Bloom filter).</summary>
    public long BffNgrams { get; set; }
}

/// <summary>
/// Runs the per-document stages over the units a shard owns. Each unit's surviving documents go to
/// <c>parts/part-NNNNNN.jsonl.zst</c> and its counts to <c>parts/part-NNNNNN.stats.json</c>, both written
/// atomically, the stats file last: a unit is done exactly when its stats file exists, so a killed run resumes
/// by skipping finished units and redoing the rest.
/// </summary>
public sealed class LocalPhase(PipelineConfig config, CurationOptions options)
{
    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Folder with the parts.</summary>
    public static string PartsDirectory(string output) => Path.Combine(output, "parts");

    /// <summary>Document file of unit <paramref name="index"/>.</summary>
    public static string PartPath(string output, int index) => Path.Combine(PartsDirectory(output), $"part-{index:D6}.jsonl.zst");

    /// <summary>Timings of unit <paramref name="index"/> (written before its statistics file).</summary>
    public static string TimingsPath(string output, int index) => Path.Combine(PartsDirectory(output), $"part-{index:D6}.timings.json");

    /// <summary>Statistics file of unit <paramref name="index"/>; its presence marks the unit done.</summary>
    public static string StatsPath(string output, int index) => Path.Combine(PartsDirectory(output), $"part-{index:D6}.stats.json");

    /// <summary>Processes every unfinished unit of this shard; returns how many units were processed now.</summary>
    public int Run(IReadOnlyList<InputUnit> plan, IProgress<CurationProgress>? progress, CancellationToken cancellation)
    {
        var parts = PartsDirectory(options.OutputPath);
        Directory.CreateDirectory(parts);
        var pending = plan.Where(u => options.Shard.Owns(u.Index) && !File.Exists(StatsPath(options.OutputPath, u.Index))).ToList();
        var stages = LocalStages.Build(config);
        long done = 0;
        progress?.Report(new CurationProgress("local", 0, pending.Count));
        ParallelWork.ForEach(pending, options.Threads, cancellation, unit =>
        {
            ProcessUnit(unit, stages, cancellation);
            progress?.Report(new CurationProgress("local", Interlocked.Increment(ref done), pending.Count));
        });
        return pending.Count;
    }

    private void ProcessUnit(InputUnit unit, IReadOnlyList<DocumentStage> stages, CancellationToken cancellation)
    {
        var read = new StageStatistics { Name = "read" };
        var statistics = stages.Select(s => s.NewStatistics()).ToList();
        var kept = new List<Document>();
        long ngrams = 0;
        var bff = config.Dedup.Bff;
        foreach (var document in InputUnitReader.Read(unit))
        {
            cancellation.ThrowIfCancellationRequested();
            int bytes = document.Utf8Length;
            read.DocsIn++; read.DocsOut++; read.BytesIn += bytes; read.BytesOut += bytes;
            bool survived = true;
            for (int s = 0; s < stages.Count && survived; s++) survived = stages[s].Run(document, statistics[s]);
            if (!survived) continue;
            kept.Add(document);
            ngrams += BffDeduplicator.CountNgrams(document.Text, bff.NgramSize, bff.MinNgramSize);
        }
        AtomicFile.Write(PartPath(options.OutputPath, unit.Index), stream =>
        {
            using var compressed = CompressedFile.WrapWrite(new NonClosingStream(stream), ".zst", fast: true);
            DocumentJsonl.WriteAll(compressed, kept);
        });
        var result = new UnitResult { Unit = unit.Index, Files = unit.RelativePaths.ToList(), Stages = [read, .. statistics], BffNgrams = ngrams };
        AtomicFile.WriteText(TimingsPath(options.OutputPath, unit.Index), JsonSerializer.Serialize(StageTimings.From(result.Stages), Json));
        AtomicFile.WriteText(StatsPath(options.OutputPath, unit.Index), JsonSerializer.Serialize(result, Json));
    }

    /// <summary>Reads the result of a finished unit.</summary>
    public static UnitResult ReadResult(string output, int index)
    {
        var path = StatsPath(output, index);
        try
        {
            return JsonSerializer.Deserialize<UnitResult>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty statistics");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: unreadable statistics ({error.Message})");
        }
    }
}
