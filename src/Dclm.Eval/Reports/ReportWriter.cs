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
        var others = report.Tasks.Where(t => t.Metrics.Count > 1).ToList();
        if (others.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Other metrics:");
            text.AppendLine();
            foreach (var t in others)
                text.AppendLine(CultureInfo.InvariantCulture, $"- {t.Label}: {string.Join(", ", t.Metrics.Select(m => $"{m.Key} {m.Value:F4}"))}");
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
