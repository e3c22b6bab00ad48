using Dclm.Formats;
using ScottPlot;

namespace Dclm.Training.Reporting;

/// <summary>loss.png: training and validation loss over steps, with the learning rate on a second axis.</summary>
public static class TrainingPlot
{
    /// <summary>Renders <paramref name="records"/> to <paramref name="path"/> (atomically replaced).</summary>
    public static void Write(string path, IReadOnlyList<MetricsRecord> records)
    {
        var plot = new Plot();
        var train = records.Where(r => r.Loss is not null).ToArray();
        var validation = records.Where(r => r.ValidationLoss is not null).ToArray();
        if (train.Length > 0)
        {
            var line = plot.Add.Scatter(train.Select(r => (double)r.Step).ToArray(), train.Select(r => r.Loss!.Value).ToArray());
            line.LegendText = "training loss";
            line.MarkerSize = 0;
        }
        if (validation.Length > 0)
        {
            var line = plot.Add.Scatter(validation.Select(r => (double)r.Step).ToArray(), validation.Select(r => r.ValidationLoss!.Value).ToArray());
            line.LegendText = "validation loss";
        }
        var rates = records.Where(r => r.LearningRate is not null).ToArray();
        if (rates.Length > 0)
        {
            var line = plot.Add.Scatter(rates.Select(r => (double)r.Step).ToArray(), rates.Select(r => r.LearningRate!.Value).ToArray());
            line.LegendText = "learning rate";
            line.MarkerSize = 0;
            line.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "learning rate";
        }
        plot.Title("Training");
        plot.XLabel("step");
        plot.YLabel("cross-entropy (nats)");
        plot.ShowLegend();
        AtomicFile.WriteBytes(path, plot.GetImageBytes(900, 520, ImageFormat.Png));
    }
}
