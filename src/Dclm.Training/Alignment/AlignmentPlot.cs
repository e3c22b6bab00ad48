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
        MetricsPlot.AddSeries(plot, records, "training loss", r => r.Loss, true);
        MetricsPlot.AddSeries(plot, records, "reward margin", r => r.RewardMargin, true);
        MetricsPlot.AddSeries(plot, records, "validation loss", r => r.ValidationLoss, false);
        MetricsPlot.AddSeries(plot, records, "validation reward margin", r => r.ValidationRewardMargin, false);
        MetricsPlot.AddSeries(plot, records, "win rate", r => r.RewardAccuracy, true, rightAxis: true);
        MetricsPlot.AddSeries(plot, records, "validation win rate", r => r.ValidationRewardAccuracy, false, rightAxis: true);
        plot.Axes.Right.Label.Text = "win rate (chosen reward > rejected)";
        plot.Title("Preference alignment");
        plot.XLabel("step");
        plot.YLabel("loss, reward margin (DPO: nats × β; reward model: r)");
        MetricsPlot.Save(plot, path);
    }
}
