using Dclm.Formats;
using Dclm.Training.Reporting;
using ScottPlot;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>alignment.png of a PPO or GRPO run: the sampled and the greedy held-out reward, and the KL to the reference on its own axis, over steps.</summary>
public static class PolicyPlot
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
        Series("reward (sampled rollouts)", r => r.Reward, true);
        Series("held-out reward (greedy)", r => r.ValidationReward, false);
        Series("KL to the reference (rollouts)", r => r.KullbackLeibler, true, right: true);
        Series("KL to the reference (held-out, greedy)", r => r.ValidationKullbackLeibler, false, right: true);
        plot.Axes.Right.Label.Text = "KL: Σ over a completion of log π − log π_ref (nats)";
        plot.Title("Policy-gradient alignment");
        plot.XLabel("step (rollout batch)");
        plot.YLabel("mean reward");
        plot.ShowLegend();
        AtomicFile.WriteBytes(path, plot.GetImageBytes(900, 520, ImageFormat.Png));
    }
}
