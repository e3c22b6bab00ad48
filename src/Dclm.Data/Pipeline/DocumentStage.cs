using System.Diagnostics;
using System.Text;
using Dclm.Data.Documents;

namespace Dclm.Data.Pipeline;

/// <summary>A named group of steps whose removals are reported together (one row of report.json).</summary>
public sealed record DocumentStage(string Name, IReadOnlyList<IDocumentStep> Steps)
{
    /// <summary>Facts about the stage's configuration copied into its report row (model used, lists skipped).</summary>
    public IReadOnlyDictionary<string, string> Notes { get; init; } = new Dictionary<string, string>();

    /// <summary>A fresh statistics row for this stage, carrying its notes.</summary>
    public StageStatistics NewStatistics()
    {
        var statistics = new StageStatistics { Name = Name };
        foreach (var (key, value) in Notes) statistics.Notes[key] = value;
        return statistics;
    }

    /// <summary>Runs the steps on <paramref name="document"/>, counting into <paramref name="statistics"/>; false when dropped.</summary>
    public bool Run(Document document, StageStatistics statistics)
    {
        long start = Stopwatch.GetTimestamp();
        statistics.DocsIn++;
        statistics.BytesIn += document.Utf8Length;
        bool kept = true;
        foreach (var step in Steps)
        {
            var outcome = step.Apply(document);
            if (outcome.FlagRule is { } flag) statistics.Flagged(flag);
            if (!outcome.IsKept)
            {
                statistics.Removed(outcome.DropRule!);
                kept = false;
                break;
            }
        }
        if (kept)
        {
            statistics.DocsOut++;
            statistics.BytesOut += document.Utf8Length;
        }
        statistics.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        return kept;
    }
}
