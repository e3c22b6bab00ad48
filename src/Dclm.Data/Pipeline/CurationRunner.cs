using System.Text.Json;
using Dclm.Data.Inputs;
using Dclm.Data.IO;
using Dclm.Formats;

namespace Dclm.Data.Pipeline;

/// <summary>
/// Entry point of <c>dclm data curate</c>: plans the input, records the plan in <c>plan.json</c> (a rerun with
/// different input into the same folder is refused), runs the local phase for this shard and, when the shard is
/// the whole input or the global phase is requested, dedup/selection/mixing and the report.
/// </summary>
public static class CurationRunner
{
    /// <summary>Runs the requested phases; returns the report when the global phase ran, else null.</summary>
    public static CurationReport? Run(PipelineConfig config, CurationOptions options, IProgress<CurationProgress>? progress = null, CancellationToken cancellation = default)
    {
        var plan = InputPlanner.Plan(options.InputPath);
        if (plan.Count == 0) throw new InvalidOperationException($"{options.InputPath}: no .warc, .warc.gz, .jsonl(.gz|.zst) or .html input found");
        Directory.CreateDirectory(options.OutputPath);
        CheckPlan(plan, options.OutputPath);
        AtomicFile.RemoveLeftovers(LocalPhase.PartsDirectory(options.OutputPath));
        if (options.Phase is CurationPhase.All or CurationPhase.Local)
            new LocalPhase(config, options).Run(plan, progress, cancellation);
        if (options.Phase == CurationPhase.Dedup)
        {
            new GlobalPhase(config, options).RunPartition(plan, options.Partition, cancellation);
            return null;
        }
        bool runGlobal = options.Phase == CurationPhase.Global || (options.Phase == CurationPhase.All && options.Shard.Count == 1);
        return runGlobal ? new GlobalPhase(config, options).Run(plan, progress, cancellation) : null;
    }

    private static void CheckPlan(IReadOnlyList<InputUnit> plan, string output)
    {
        var path = Path.Combine(output, "plan.json");
        var description = JsonSerializer.Serialize(plan.Select(u => new { u.Index, u.Source, Files = u.RelativePaths }), LocalPhase.Json);
        if (File.Exists(path))
        {
            if (File.ReadAllText(path) != description)
                throw new InvalidOperationException($"{path}: the output folder was started from different input files; use a new --output folder");
            return;
        }
        AtomicFile.WriteText(path, description);
    }
}
