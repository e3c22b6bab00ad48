using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dclm.Data.Documents;
using Dclm.Data.Inputs;
using Dclm.Data.IO;
using Dclm.Data.Mixing;
using Dclm.Data.Quality;
using Dclm.Formats;

namespace Dclm.Data.Pipeline;

/// <summary>
/// The stages that need every document: exact and BFF/MinHash dedup (order-dependent: earlier documents win,
/// in unit order), the quality classifier's top-fraction cut, and source mixing. Pass A dedups and scores into
/// <c>global/dedup-*.jsonl.zst</c>, finishing with <c>global/dedup.stats.json</c>; pass B selects, mixes and
/// writes <c>documents/*.jsonl.zst</c>, then report.json and the plots. Each pass is deterministic, so a killed
/// run redoes at most the pass it was in and produces the same files.
/// </summary>
public sealed class GlobalPhase(PipelineConfig config, CurationOptions options)
{
    private string GlobalDirectory => Path.Combine(options.OutputPath, "global");
    private string DedupMarker => Path.Combine(GlobalDirectory, "dedup.stats.json");
    private string DedupTimings => Path.Combine(GlobalDirectory, "dedup.timings.json");
    private string ScoresPath => Path.Combine(GlobalDirectory, "scores.bin");

    /// <summary>Runs both passes (skipping pass A when its marker exists) and returns the report.</summary>
    public CurationReport Run(IReadOnlyList<InputUnit> plan, IProgress<CurationProgress>? progress, CancellationToken cancellation)
    {
        var units = FinishedUnits(plan);
        var report = new CurationReport { InputUnits = plan.Count };
        foreach (var unit in units)
        {
            for (int s = 0; s < unit.Stages.Count; s++)
            {
                if (report.Stages.Count <= s) report.Stages.Add(new StageStatistics { Name = unit.Stages[s].Name });
                report.Stages[s].Add(unit.Stages[s]);
            }
            foreach (var time in StageTimings.Read(LocalPhase.TimingsPath(options.OutputPath, unit.Unit)).Stages) report.Timings.Add(time.Name, time.Seconds);
        }
        List<StageStatistics> dedupStages;
        if (File.Exists(DedupMarker)) dedupStages = JsonSerializer.Deserialize<List<StageStatistics>>(File.ReadAllText(DedupMarker))!;
        else dedupStages = RunDedupPass(plan, units.Sum(u => u.BffNgrams), progress, cancellation);
        foreach (var time in StageTimings.Read(DedupTimings).Stages) report.Timings.Add(time.Name, time.Seconds);
        report.Stages.AddRange(dedupStages);
        int before = report.Stages.Count;
        RunSelectionPass(report, progress, cancellation);
        foreach (var stage in report.Stages.Skip(before)) report.Timings.Add(stage.Name, stage.Seconds);
        AtomicFile.WriteText(Path.Combine(options.OutputPath, "report.json"), JsonSerializer.Serialize(report, LocalPhase.Json));
        AtomicFile.WriteText(Path.Combine(options.OutputPath, "timings.json"), JsonSerializer.Serialize(report.Timings, LocalPhase.Json));
        ReportPlots.Write(report, options.OutputPath);
        return report;
    }

    private List<UnitResult> FinishedUnits(IReadOnlyList<InputUnit> plan)
    {
        var missing = plan.Where(u => !File.Exists(LocalPhase.StatsPath(options.OutputPath, u.Index))).Select(u => u.Index).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{options.OutputPath}: {missing.Count} of {plan.Count} input units are not processed yet (first: {missing[0]}); run every --shard i/N before the global phase");
        return plan.Select(u => LocalPhase.ReadResult(options.OutputPath, u.Index)).ToList();
    }

    /// <summary>Counts one BFF partition (<c>--phase dedup --partition p/P</c>) unless its file already exists.</summary>
    public void RunPartition(IReadOnlyList<InputUnit> plan, ShardSpec partition, CancellationToken cancellation)
    {
        if (config.Dedup.Method != "bff" || config.Dedup.Bff.Partitions <= 1)
            throw new InvalidOperationException("--phase dedup needs dedup.method: bff and dedup.bff.partitions > 1 in the pipeline config");
        if (partition.Count != config.Dedup.Bff.Partitions)
            throw new ArgumentException($"--partition {partition}: the config says dedup.bff.partitions: {config.Dedup.Bff.Partitions}");
        var units = FinishedUnits(plan);
        if (File.Exists(BffPartitionFiles.PathOf(options.OutputPath, partition.Index, partition.Count))) return;
        BffPartitionFiles.Write(config, options.OutputPath, plan, units.Sum(u => u.BffNgrams), partition.Index, cancellation);
    }

    private List<StageStatistics> RunDedupPass(IReadOnlyList<InputUnit> plan, long expectedNgrams, IProgress<CurationProgress>? progress, CancellationToken cancellation)
    {
        var qualityStats = new StageStatistics { Name = "quality_score" };
        var model = LoadModel(qualityStats);
        var writer = new ChunkedDocumentWriter(GlobalDirectory, "dedup", config.Output.DocumentsPerFile, fast: true);
        var scores = new List<double>();
        List<StageStatistics> stages;
        using (var dedup = new DedupChain(config, options, plan, expectedNgrams, cancellation))
        {
            for (int u = 0; u < plan.Count; u++)
            {
                foreach (var document in DocumentJsonl.ReadFile(LocalPhase.PartPath(options.OutputPath, plan[u].Index), plan[u].Source))
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (!dedup.Keep(document)) continue;
                    if (model is not null)
                    {
                        Count(qualityStats, document, () => { document.QualityScore = model.Score(document.Text); return null; });
                        scores.Add(document.QualityScore!.Value);
                    }
                    writer.Add(document);
                }
                progress?.Report(new CurationProgress("dedup", u + 1, plan.Count));
            }
            writer.Complete();
            stages = dedup.Stages().ToList();
        }
        AtomicFile.Write(ScoresPath, stream => { using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true); foreach (var s in scores) w.Write(s); });
        if (config.Quality.Enabled) stages.Add(qualityStats);
        AtomicFile.WriteText(DedupTimings, JsonSerializer.Serialize(StageTimings.From(stages), LocalPhase.Json));
        AtomicFile.WriteText(DedupMarker, JsonSerializer.Serialize(stages, LocalPhase.Json));
        return stages;
    }

    private QualityScorer? LoadModel(StageStatistics statistics)
    {
        if (!config.Quality.Enabled) return null;
        var path = PipelineConfigLoader.Resolve(config, config.Quality.Model);
        if (!File.Exists(path))
        {
            statistics.Notes["skipped"] = $"model {path} not found; train one with 'dclm data train-classifier'";
            return null;
        }
        statistics.Notes["model"] = path;
        statistics.Notes["positive_label"] = config.Quality.PositiveLabel;
        return new QualityScorer(FastText.FastTextModels.Shared(path), config.Quality.PositiveLabel, path);
    }

    private void RunSelectionPass(CurationReport report, IProgress<CurationProgress>? progress, CancellationToken cancellation)
    {
        var scored = report.Stages.Any(s => s.Name == "quality_score" && !s.Notes.ContainsKey("skipped"));
        var qualityStats = new StageStatistics { Name = "quality_filter" };
        var mixStats = new StageStatistics { Name = "mixing" };
        double threshold = double.NegativeInfinity;
        bool[]? keep = null;
        if (scored)
        {
            var scores = ReadScores();
            if (config.Quality.Threshold is { } fixedThreshold)
            {
                threshold = fixedThreshold;
                qualityStats.Notes["threshold"] = fixedThreshold.ToString("G6");
            }
            else
            {
                keep = TopFraction(scores, config.Quality.KeepTopFraction);
                qualityStats.Notes["keep_top_fraction"] = config.Quality.KeepTopFraction.ToString("G6");
            }
        }
        var mixer = config.Mixing.Enabled ? new SourceMixer(config.Mixing.Weights, config.Mixing.DefaultWeight, config.Mixing.Seed) : null;
        var writer = new ChunkedDocumentWriter(Path.Combine(options.OutputPath, "documents"), "documents", config.Output.DocumentsPerFile);
        var files = Directory.Exists(GlobalDirectory) ? Directory.EnumerateFiles(GlobalDirectory, "dedup-*.jsonl.zst").Order(StringComparer.Ordinal).ToList() : [];
        bool PassesQuality(long index, Document document) => !scored || (keep is not null ? keep[index] : document.QualityScore >= threshold);
        var balanceStats = new StageStatistics { Name = "balance" };
        var balancer = config.Balance.Enabled ? PlanBalance(files, PassesQuality, balanceStats, cancellation) : null;
        long ordinal = 0;
        foreach (var file in files)
        {
            foreach (var document in DocumentJsonl.ReadFile(file, ""))
            {
                cancellation.ThrowIfCancellationRequested();
                long index = ordinal++;
                if (scored && !Count(qualityStats, document, () => PassesQuality(index, document) ? null : "below_quality_cut")) continue;
                if (balancer is not null && !Count(balanceStats, document, () => balancer.Decide(index))) continue;
                if (mixer is null) { Emit(writer, report, document); continue; }
                long start = Stopwatch.GetTimestamp();
                mixStats.DocsIn++;
                mixStats.BytesIn += document.Utf8Length;
                var copies = mixer.Copies(document);
                if (copies.Count == 0) mixStats.Removed("downsampled");
                foreach (var copy in copies)
                {
                    mixStats.DocsOut++;
                    mixStats.BytesOut += copy.Utf8Length;
                    Emit(writer, report, copy);
                }
                mixStats.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }
        writer.Complete();
        progress?.Report(new CurationProgress("select", 1, 1));
        if (scored) report.Stages.Add(qualityStats);
        if (balancer is not null) report.Stages.Add(balanceStats);
        if (mixer is not null) report.Stages.Add(mixStats);
        report.OutputFiles = writer.Files.Select(f => "documents/" + f).ToList();
    }

    /// <summary>The balancing pre-pass: the group of every page that passed the quality cut, then the quotas.</summary>
    private Balancer PlanBalance(List<string> files, Func<long, Document, bool> passesQuality, StageStatistics statistics, CancellationToken cancellation)
    {
        var settings = config.Balance;
        var balancer = new Balancer(settings.Targets, settings.Seed);
        FastText.FastTextModel? model = settings.By == "label" ? FastText.FastTextModels.Shared(PipelineConfigLoader.Resolve(config, settings.Model)) : null;
        long ordinal = 0;
        foreach (var file in files)
        {
            foreach (var document in DocumentJsonl.ReadFile(file, ""))
            {
                cancellation.ThrowIfCancellationRequested();
                long index = ordinal++;
                if (!passesQuality(index, document)) continue;
                string group = model is null ? document.Source
                    : model.PredictBest(QualityScorer.Normalize(document.Text)) is { } p ? p.Name[FastText.FastTextDictionary.LabelPrefix.Length..] : "";
                balancer.Observe(index, document, group);
            }
        }
        balancer.Plan();
        statistics.Notes["by"] = settings.By + (model is null ? "" : $" ({settings.Model})");
        statistics.Notes["seed"] = settings.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        balancer.Describe(statistics.Notes);
        return balancer;
    }

    private static void Emit(ChunkedDocumentWriter writer, CurationReport report, Document document)
    {
        writer.Add(document);
        report.OutputBySource[document.Source] = report.OutputBySource.GetValueOrDefault(document.Source) + 1;
    }

    private double[] ReadScores()
    {
        var bytes = File.ReadAllBytes(ScoresPath);
        var scores = new double[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, scores, 0, scores.Length * 8);
        return scores;
    }

    /// <summary>Marks the ⌈fraction·n⌉ highest scores; ties go to the earlier document so the cut is deterministic.</summary>
    public static bool[] TopFraction(IReadOnlyList<double> scores, double fraction)
    {
        int count = (int)Math.Ceiling(fraction * scores.Count);
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(count);
        var keep = new bool[scores.Count];
        foreach (var i in order) keep[i] = true;
        return keep;
    }

    /// <summary>Runs one decision and counts it; <paramref name="decide"/> returns a drop rule or null to keep.</summary>
    internal static bool Count(StageStatistics statistics, Document document, Func<string?> decide)
    {
        long start = Stopwatch.GetTimestamp();
        statistics.DocsIn++;
        statistics.BytesIn += document.Utf8Length;
        var rule = decide();
        if (rule is not null) statistics.Removed(rule);
        else
        {
            statistics.DocsOut++;
            statistics.BytesOut += document.Utf8Length;
        }
        statistics.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        return rule is null;
    }
}
