using ScottPlot;

namespace Dclm.Training.Reporting;

/// <summary>loss.png: training and validation loss over steps, with the learning rate on a second axis.</summary>
public static class TrainingPlot
{
    /// <summary>Renders <paramref name="records"/> to <paramref name="path"/> (atomically replaced).</summary>
    public static void Write(string path, IReadOnlyList<MetricsRecord> records)
    {
        var plot = new Plot();
        MetricsPlot.AddSeries(plot, records, "training loss", r => r.Loss, line: true);
        MetricsPlot.AddSeries(plot, records, "validation loss", r => r.ValidationLoss, line: false);
        if (MetricsPlot.AddSeries(plot, records, "learning rate", r => r.LearningRate, line: true, rightAxis: true))
            plot.Axes.Right.Label.Text = "learning rate";
        plot.Title("Training");
        plot.XLabel("step");
        plot.YLabel("cross-entropy (nats)");
        MetricsPlot.Save(plot, path);
    }
}
