namespace Dclm.Training.Optimization;

/// <summary>
/// Linear warmup from 0 to the peak over <see cref="WarmupSteps"/>, then cosine decay to the floor at
/// <see cref="TotalSteps"/>: lr(s) = floor + (peak − floor)·(1 + cos(π·(s − warmup)/(total − warmup)))/2.
/// </summary>
public sealed record LearningRateSchedule(double Peak, double Floor, int WarmupSteps, int TotalSteps)
{
    /// <summary>The learning rate of update <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Floor + (Peak - Floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
