using Dclm.Formats;
using ScottPlot;

namespace Dclm.Training.Reporting;

/// <summary>What the run plots (loss.png, alignment.png) share: one metric over steps as a series, and the PNG written atomically.</summary>
internal static class MetricsPlot
{
    /// <summary>
    /// Adds the records where <paramref name="value"/> is present as a series named <paramref name="name"/>: a line
    /// without markers when <paramref name="line"/>, markers otherwise; on the right axis when <paramref name="rightAxis"/>.
    /// Returns whether any record had the value (nothing is added otherwise).
    /// </summary>
    public static bool AddSeries(Plot plot, IReadOnlyList<MetricsRecord> records, string name, Func<MetricsRecord, double?> value, bool line, bool rightAxis = false)
    {
        var points = records.Where(r => value(r) is not null).ToArray();
        if (points.Length == 0) return false;
        var scatter = plot.Add.Scatter(points.Select(r => (double)r.Step).ToArray(), points.Select(r => value(r)!.Value).ToArray());
        scatter.LegendText = name;
        if (line) scatter.MarkerSize = 0;
        if (rightAxis) scatter.Axes.YAxis = plot.Axes.Right;
        return true;
    }

    /// <summary>Shows the legend and writes <paramref name="plot"/> to <paramref name="path"/> as a 900×520 PNG (atomically replaced).</summary>
    public static void Save(Plot plot, string path)
    {
        plot.ShowLegend();
        AtomicFile.WriteBytes(path, plot.GetImageBytes(900, 520, ImageFormat.Png));
    }
}
