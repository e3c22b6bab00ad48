using Dclm.Training.Configuration;

namespace Dclm.Training.Data;

/// <summary>
/// Continual pretraining's replay: the earlier domain's data joins the sources as "replay", and every stage that
/// does not weight it itself draws <see cref="TrainingOptions.ReplayFraction"/> of its samples from it, its own
/// weights scaled to the rest. Replaying a little of the old mix is the plain remedy for catastrophic forgetting.
/// </summary>
public static class ReplayMix
{
    /// <summary>The source name replay_data takes, in stages, checkpoints and the forgetting report.</summary>
    public const string SourceName = "replay";

    /// <summary>The sources and stages <paramref name="options"/> trains on once its replay data is mixed in.</summary>
    public static (IReadOnlyDictionary<string, string> Sources, IReadOnlyList<MixingStage> Stages) Apply(TrainingOptions options)
    {
        if (options.ReplayData is null) return (options.Sources, options.Stages);
        var sources = new Dictionary<string, string>(options.Sources) { [SourceName] = options.ReplayData };
        var stages = options.Stages.Count > 0 ? options.Stages
            : [new MixingStage("all", 0, options.Sources.Keys.ToDictionary(name => name, _ => 1.0))];
        return (sources, stages.Select(stage => WithReplay(stage, options.ReplayFraction)).ToList());
    }

    // weights w_i (Σ = W) become w_i·(1−f)/W, and replay gets f: the replay share is f whatever the stage's scale.
    private static MixingStage WithReplay(MixingStage stage, double fraction)
    {
        if (stage.Weights.ContainsKey(SourceName)) return stage;
        double total = stage.Weights.Values.Where(w => w > 0).Sum();
        if (total <= 0) return stage; // the mixer names the bad weights
        var weights = stage.Weights.ToDictionary(p => p.Key, p => p.Value * (1 - fraction) / total);
        weights[SourceName] = fraction;
        return stage with { Weights = weights };
    }
}
