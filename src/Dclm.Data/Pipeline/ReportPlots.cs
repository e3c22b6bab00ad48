using Dclm.Formats;
using ScottPlot;

namespace Dclm.Data.Pipeline;

/// <summary>
/// PNG charts next to report.json: <c>plots/funnel.png</c> (documents surviving each stage) and one
/// <c>plots/removed-STAGE.png</c> per stage that removed anything (removals per rule).
/// </summary>
public static class ReportPlots
{
    /// <summary>Writes the charts of <paramref name="report"/> under <paramref name="outputDirectory"/>/plots.</summary>
    public static IReadOnlyList<string> Write(CurationReport report, string outputDirectory)
    {
        var directory = Path.Combine(outputDirectory, "plots");
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        var funnelLabels = new List<string> { "input" };
        var funnelValues = new List<double> { report.Stages.Count > 0 ? report.Stages[0].DocsIn : 0 };
        foreach (var stage in report.Stages)
        {
            funnelLabels.Add(stage.Name);
            funnelValues.Add(stage.DocsOut);
        }
        written.Add(SaveBars(Path.Combine(directory, "funnel.png"), "Documents after each stage", funnelLabels, funnelValues, "documents"));
        foreach (var stage in report.Stages.Where(s => s.RemovedBy.Count > 0))
        {
            var path = Path.Combine(directory, $"removed-{stage.Name}.png");
            written.Add(SaveBars(path, $"{stage.Name}: documents removed by rule", stage.RemovedBy.Keys.ToList(), stage.RemovedBy.Values.Select(v => (double)v).ToList(), "documents removed"));
        }
        return written;
    }

    private static string SaveBars(string path, string title, IReadOnlyList<string> labels, IReadOnlyList<double> values, string axis)
    {
        var plot = new Plot();
        var bars = plot.Add.Bars(values.ToArray());
        foreach (var bar in bars.Bars) bar.Label = bar.Value.ToString("N0");
        bars.ValueLabelStyle.FontSize = 11;
        var ticks = labels.Select((label, i) => new Tick(i, label)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.TickLabelStyle.Rotation = -35;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(axis);
        AtomicFile.WriteBytes(path, plot.GetImageBytes(Math.Max(640, 70 * labels.Count + 160), 480, ImageFormat.Png));
        return path;
    }
}
