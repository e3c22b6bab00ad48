namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>Rollout rewards from a trained reward model (<c>dclm train-reward</c>): r = w·h of the sequence's last token.</summary>
public sealed class RewardModelSource(RewardModel model, string directory) : IRewardSource
{
    /// <inheritdoc/>
    public string Name => $"reward model {directory}";

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<ScoredText> items, CancellationToken cancellation = default) =>
        items.Select(item => model.Score(item.Tokens, cancellation)).ToArray();

    /// <inheritdoc/>
    public void Dispose() => model.Dispose();
}
