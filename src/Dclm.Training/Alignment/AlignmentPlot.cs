using Dclm.Formats;
using Dclm.Training.Reporting;
using ScottPlot;

namespace Dclm.Training.Alignment;

/// <summary>
/// alignment.png: a preference run's loss, reward margin (DPO's implicit one or a reward model's) and win rate (chosen reward above rejected), on
/// training updates and held-out evaluations, over steps.
/// </summary>
public static class AlignmentPlot
{
    /// <summary>Renders <paramref name="records"/> to <paramref name="path"/> (atomically replaced).</summary>
    public static void Write(string path, IReadOnlyList<MetricsRecord> records)
    {
        var plot = new Plot();
        void Series(string name, Func<MetricsRecord, double?> value, bool line, bool right = false)
        {
            var points = records.Where(r => value(r) is not null).ToArray();
            if (points.Length == 0) return;
            var scatter = plot.Add.Scatter(points.Select(r => (double)r.Step).ToArray(), points.Select(r => value(r)!.Value).ToArray());
            scatter.LegendText = name;
            if (line) scatter.MarkerSize = 0;
            if (right) scatter.Axes.YAxis = plot.Axes.Right;
        }
        Series("training loss", r => r.Loss, true);
        Series("reward margin", r => r.RewardMargin, true);
        Series("validation loss", r => r.ValidationLoss, false);
        Series("validation reward margin", r => r.ValidationRewardMargin, false);
        Series("win rate", r => r.RewardAccuracy, true, right: true);
        Series("validation win rate", r => r.ValidationRewardAccuracy, false, right: true);
        plot.Axes.Right.Label.Text = "win rate (chosen reward > rejected)";
        plot.Title("Preference alignment");
        plot.XLabel("step");
        plot.YLabel("loss, reward margin (DPO: nats × β; reward model: r)");
        plot.ShowLegend();
        AtomicFile.WriteBytes(path, plot.GetImageBytes(900, 520, ImageFormat.Png));
    }
}
