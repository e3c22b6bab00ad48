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
        MetricsPlot.AddSeries(plot, records, "reward (sampled rollouts)", r => r.Reward, true);
        MetricsPlot.AddSeries(plot, records, "held-out reward (greedy)", r => r.ValidationReward, false);
        MetricsPlot.AddSeries(plot, records, "KL to the reference (rollouts)", r => r.KullbackLeibler, true, rightAxis: true);
        MetricsPlot.AddSeries(plot, records, "KL to the reference (held-out, greedy)", r => r.ValidationKullbackLeibler, false, rightAxis: true);
        plot.Axes.Right.Label.Text = "KL: Σ over a completion of log π − log π_ref (nats)";
        plot.Title("Policy-gradient alignment");
        plot.XLabel("step (rollout batch)");
        plot.YLabel("mean reward");
        MetricsPlot.Save(plot, path);
    }
}
