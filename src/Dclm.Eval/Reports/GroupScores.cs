namespace Dclm.Eval.Reports;

/// <summary>A group's (or a category's) score pooled from its tasks, as lm-evaluation-harness aggregates groups.</summary>
/// <param name="Name">The group (e.g. "mmlu") or group_category ("mmlu_stem").</param>
/// <param name="Metric">The metric pooled (acc, acc_norm).</param>
/// <param name="Value">Σ valueᵢ·nᵢ / Σ nᵢ over the tasks (weight_by_size).</param>
/// <param name="StandardError">pooled_sample_stderr over the tasks' stderrs; NaN when a task has none.</param>
/// <param name="Items">Σ nᵢ.</param>
/// <param name="Tasks">Tasks pooled.</param>
public sealed record GroupScore(string Name, string Metric, double Value, double StandardError, int Items, int Tasks)
{
    /// <summary>Each group and each of its categories, for every metric all of its tasks report.</summary>
    public static IReadOnlyList<GroupScore> Compute(IEnumerable<TaskResult> tasks)
    {
        var scores = new List<GroupScore>();
        foreach (var group in tasks.Where(t => t.Group is not null).GroupBy(t => t.Group!))
        {
            scores.AddRange(Pool(group.Key, group.ToList()));
            foreach (var category in group.Where(t => t.Category is not null).GroupBy(t => t.Category!).OrderBy(c => c.Key, StringComparer.Ordinal))
                scores.AddRange(Pool($"{group.Key}_{category.Key}", category.ToList()));
        }
        return scores;
    }

    private static IEnumerable<GroupScore> Pool(string name, List<TaskResult> members)
    {
        var metrics = members.Select(t => t.Metrics.Keys.Where(k => !k.EndsWith("_stderr", StringComparison.Ordinal) && t.Metrics.ContainsKey(k + "_stderr")))
            .Aggregate((a, b) => a.Intersect(b).ToList());
        foreach (var metric in metrics)
        {
            var sizes = members.Select(t => t.Items).ToList();
            double value = members.Sum(t => t.Metrics[metric] * t.Items) / sizes.Sum();
            var errors = members.Select(t => t.Metrics[metric + "_stderr"]).ToList();
            double error = errors.Any(double.IsNaN) ? double.NaN : Statistics.PooledStandardError(errors, sizes);
            yield return new GroupScore(name, metric, value, error, sizes.Sum(), members.Count);
        }
    }
}
