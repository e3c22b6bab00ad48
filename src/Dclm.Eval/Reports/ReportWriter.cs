using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dclm.Formats;

namespace Dclm.Eval.Reports;

/// <summary>Writes reports as JSON (with per-item outputs) and as a Markdown table.</summary>
public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The report as JSON.</summary>
    public static string ToJson(EvalReport report) => JsonSerializer.Serialize(report, Json);

    /// <summary>Reads a report <see cref="Write"/> wrote; errors name the file.</summary>
    public static EvalReport Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such report");
        try { return JsonSerializer.Deserialize<EvalReport>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty report"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a dclm eval report ({e.Message})"); }
    }

    /// <summary>
    /// The lm-evaluation-harness tasks and groups as the harness prints them: one row per task and metric
    /// with its value and standard error, subjects indented under their group and category; empty when
    /// the report has none.
    /// </summary>
    public static string HarnessTables(EvalReport report)
    {
        var harness = report.Tasks.Where(t => t.Reference == "lm-evaluation-harness").ToList();
        if (harness.Count == 0) return "";
        var text = new StringBuilder();
        text.AppendLine("| Tasks | n-shot | Metric | Value | | Stderr |");
        text.AppendLine("|---|---:|---|---:|---|---:|");
        var groups = report.Groups.ToLookup(g => g.Name);
        var printed = new HashSet<string>();
        foreach (var t in harness)
        {
            if (t.Group is { } group && printed.Add(group)) GroupRows(text, groups[group], group, "", t.Shots);
            if (t.Group is { } g2 && t.Category is { } category && printed.Add($"{g2}_{category}")) GroupRows(text, groups[$"{g2}_{category}"], category, " - ", t.Shots);
            string name = t.Group is null ? t.Label : $"{(t.Category is null ? " - " : "  - ")}{t.Alias ?? t.Label}";
            foreach (var metric in t.Metrics.Keys.Where(k => !k.EndsWith("_stderr", StringComparison.Ordinal)))
                text.AppendLine(Row(name, t.Shots, metric, t.Metrics[metric], t.Metrics.TryGetValue(metric + "_stderr", out double e) ? e : double.NaN));
        }
        return text.ToString();

        static void GroupRows(StringBuilder text, IEnumerable<GroupScore> scores, string name, string indent, int shots)
        {
            foreach (var g in scores) text.AppendLine(Row(indent + name, shots, g.Metric, g.Value, g.StandardError));
        }

        static string Row(string name, int shots, string metric, double value, double error) => string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {shots} | {metric} | {value:F4} | ± | {(double.IsNaN(error) ? "N/A" : error.ToString("F4", CultureInfo.InvariantCulture))} |");
    }

    /// <summary>The summary table as Markdown: one row per task, then the CORE-style aggregate.</summary>
    public static string ToMarkdown(EvalReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Evaluation of {report.Model ?? "(no model: harness check)"}");
        text.AppendLine();
        text.AppendLine("| task | kind | shots | items | metric | score | random | centred | items/s |");
        text.AppendLine("|---|---|---:|---:|---|---:|---:|---:|---:|");
        foreach (var t in report.Tasks)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Label} | {Tasks.TaskKinds.Name(t.Kind)} | {t.Shots} | {t.Items} | {t.PrimaryMetric} | {t.Accuracy:F4} | {t.RandomBaseline:F4} | {t.CenteredAccuracy:F4} | {t.ItemsPerSecond:F1} |");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"CORE-style aggregate (mean centred accuracy over {report.Tasks.Count} task(s)): **{report.Core:F4}**");
        string harness = HarnessTables(report);
        if (harness.Length > 0)
        {
            text.AppendLine();
            text.AppendLine("lm-evaluation-harness tasks (standard errors as the harness computes them):");
            text.AppendLine();
            text.Append(harness);
        }
        var others = report.Tasks.Where(t => t.Reference != "lm-evaluation-harness" && t.Metrics.Count > 1).ToList();
        if (others.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Other metrics:");
            text.AppendLine();
            foreach (var t in others)
                text.AppendLine(CultureInfo.InvariantCulture, $"- {t.Label}: {string.Join(", ", t.Metrics.Select(m => $"{m.Key} {m.Value:F4}"))}");
        }
        var generated = report.Tasks.Where(t => t.Stability is not null).ToList();
        if (generated.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Output stability (per completion, averaged; rep-4 = share of repeated token 4-grams):");
            text.AppendLine();
            text.AppendLine("| task | completions | mean logprob | mean entropy | rep-4 | empty | truncated |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var t in generated)
            {
                var s = t.Stability!;
                text.AppendLine(CultureInfo.InvariantCulture, $"| {t.Label} | {s.Outputs} | {s.MeanLogprob:F4} | {s.MeanEntropy:F4} | {s.RepetitionRate:F4} | {s.Empty} | {s.Truncated} |");
            }
        }
        if (report.Sandbox is not null)
        {
            text.AppendLine();
            text.AppendLine($"Sandbox: {report.Sandbox}.");
        }
        return text.ToString();
    }

    /// <summary>Writes <paramref name="path"/> (JSON) and the same name with .md (Markdown), each atomically.</summary>
    public static (string Json, string Markdown) Write(EvalReport report, string path)
    {
        string markdown = Path.ChangeExtension(path, ".md");
        if (string.Equals(Path.GetFullPath(markdown), Path.GetFullPath(path), StringComparison.Ordinal)) markdown = path + ".md";
        AtomicFile.WriteText(path, ToJson(report));
        AtomicFile.WriteText(markdown, ToMarkdown(report));
        return (path, markdown);
    }
}
