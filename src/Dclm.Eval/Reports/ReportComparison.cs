namespace Dclm.Eval.Reports;

/// <summary>One metric of one task (or group) in two reports.</summary>
/// <param name="Name">Task or group.</param>
/// <param name="Metric">Metric name.</param>
/// <param name="A">Value in the first report.</param>
/// <param name="B">Value in the second report.</param>
/// <param name="StandardErrorA">Its stderr in the first report (NaN when none).</param>
/// <param name="StandardErrorB">Its stderr in the second report (NaN when none).</param>
public sealed record ComparisonRow(string Name, string Metric, double A, double B, double StandardErrorA, double StandardErrorB)
{
    /// <summary>B − A.</summary>
    public double Difference => B - A;
    /// <summary>√(seA² + seB²), the stderr of the difference of two independent estimates.</summary>
    public double StandardError => Math.Sqrt(StandardErrorA * StandardErrorA + StandardErrorB * StandardErrorB);
    /// <summary>|B − A| / stderr; NaN without stderrs.</summary>
    public double ZScore => Math.Abs(Difference) / StandardError;
    /// <summary>Whether the difference exceeds 1.96 standard errors (two-sided 95%).</summary>
    public bool Significant => ZScore > 1.96;
}

/// <summary>Lines up two reports by task and metric: every task's primary metric and stderr-carrying metrics, every group, and the CORE-style aggregate.</summary>
public static class ReportComparison
{
    /// <summary>The rows both reports have, in the first report's order; <paramref name="onlyIn"/> names what only one has.</summary>
    public static IReadOnlyList<ComparisonRow> Compare(EvalReport a, EvalReport b, out IReadOnlyList<string> onlyIn)
    {
        var rowsA = Rows(a);
        var rowsB = Rows(b).ToDictionary(r => (r.Name, r.Metric));
        var rows = new List<ComparisonRow>();
        foreach (var row in rowsA)
            if (rowsB.TryGetValue((row.Name, row.Metric), out var other)) rows.Add(new ComparisonRow(row.Name, row.Metric, row.Value, other.Value, row.Error, other.Error));
        var namesA = rowsA.Select(r => r.Name).ToHashSet();
        var namesB = rowsB.Keys.Select(k => k.Name).ToHashSet();
        onlyIn = namesA.Except(namesB).Select(n => $"{n} (first only)").Concat(namesB.Except(namesA).Select(n => $"{n} (second only)")).ToList();
        return rows;
    }

    private static List<(string Name, string Metric, double Value, double Error)> Rows(EvalReport report)
    {
        var rows = new List<(string, string, double, double)>();
        foreach (var t in report.Tasks)
        {
            var metrics = t.Metrics.Keys.Where(k => !k.EndsWith("_stderr", StringComparison.Ordinal) && (k == t.PrimaryMetric || t.Metrics.ContainsKey(k + "_stderr")));
            foreach (var m in metrics) rows.Add((t.Label, m, t.Metrics[m], t.Metrics.TryGetValue(m + "_stderr", out double e) ? e : double.NaN));
        }
        foreach (var g in report.Groups) rows.Add((g.Name, g.Metric, g.Value, g.StandardError));
        if (report.Tasks.Count > 0) rows.Add(("CORE-style aggregate", "centred", report.Core, double.NaN));
        return rows;
    }
}
