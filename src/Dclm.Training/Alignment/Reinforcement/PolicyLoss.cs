namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>
/// The per-token terms of PPO (Schulman et al. 2017; Ouyang et al. 2022) and GRPO (Shao et al. 2024), in double, each with
/// its derivative, so the trainers only add them up. ℓ = log π(a_t | s_t) under the policy being trained, ℓ_old under the
/// policy that sampled the rollout, ℓ_ref under the reference (the base without adapters).
/// </summary>
public static class PolicyLoss
{
    /// <summary>
    /// GRPO's group-relative advantages: (r − mean of the group) / (std of the group + ε), the population std over each
    /// consecutive group of <paramref name="groupSize"/> rewards (a group whose rewards are all equal gets zeros).
    /// </summary>
    public static void GroupAdvantages(ReadOnlySpan<double> rewards, int groupSize, Span<double> advantages, double epsilon = 1e-4)
    {
        if (groupSize < 1 || rewards.Length % groupSize != 0) throw new ArgumentException($"{rewards.Length} rewards do not form groups of {groupSize}");
        for (int start = 0; start < rewards.Length; start += groupSize)
        {
            var group = rewards.Slice(start, groupSize);
            double mean = 0, variance = 0;
            foreach (double r in group) mean += r;
            mean /= groupSize;
            foreach (double r in group) variance += (r - mean) * (r - mean);
            double std = Math.Sqrt(variance / groupSize);
            for (int i = 0; i < groupSize; i++) advantages[start + i] = (group[i] - mean) / (std + epsilon);
        }
    }

    /// <summary>
    /// Generalised advantage estimation over one completion of T tokens: δ_t = r_t + γ·V_{t+1} − V_t (V_T = 0 after the
    /// last token), A_t = δ_t + γλ·A_{t+1}, and the value targets R_t = A_t + V_t.
    /// </summary>
    public static void Gae(ReadOnlySpan<double> rewards, ReadOnlySpan<double> values, double gamma, double lambda, Span<double> advantages, Span<double> returns)
    {
        int n = rewards.Length;
        if (values.Length != n || advantages.Length < n || returns.Length < n) throw new ArgumentException("rewards, values, advantages and returns must have one value a token");
        double next = 0, running = 0;
        for (int t = n - 1; t >= 0; t--)
        {
            double delta = rewards[t] + gamma * next - values[t];
            running = delta + gamma * lambda * running;
            advantages[t] = running;
            returns[t] = running + values[t];
            next = values[t];
        }
    }

    /// <summary>
    /// The clipped surrogate's loss −min(ρA, clip(ρ, 1 − ε, 1 + ε)·A) with ρ = e^(ℓ − ℓ_old), its derivative in ℓ
    /// (−ρA where the unclipped term is the minimum, else 0) and whether the clipped term was taken.
    /// </summary>
    public static (double Loss, double Gradient, bool Clipped) Surrogate(double logProbability, double oldLogProbability, double advantage, double clip)
    {
        double ratio = Math.Exp(logProbability - oldLogProbability);
        double unclipped = ratio * advantage, clipped = Math.Clamp(ratio, 1 - clip, 1 + clip) * advantage;
        return unclipped <= clipped ? (-unclipped, -unclipped, false) : (-clipped, 0, true);
    }

    /// <summary>
    /// The k3 estimate of KL(π ‖ π_ref) at one sampled token (Schulman 2020; GRPO's penalty): e^(ℓ_ref − ℓ) − (ℓ_ref − ℓ) − 1,
    /// never negative, and its derivative in ℓ, 1 − e^(ℓ_ref − ℓ).
    /// </summary>
    public static (double Value, double Gradient) KlPenalty(double logProbability, double referenceLogProbability)
    {
        double difference = referenceLogProbability - logProbability, e = Math.Exp(difference);
        return (e - difference - 1, 1 - e);
    }

    /// <summary>
    /// PPO's clipped value loss ½·max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²) and its derivative in V.
    /// </summary>
    public static (double Loss, double Gradient) Value(double value, double oldValue, double target, double clip)
    {
        double clippedValue = oldValue + Math.Clamp(value - oldValue, -clip, clip);
        double plain = (value - target) * (value - target), clipped = (clippedValue - target) * (clippedValue - target);
        if (plain >= clipped) return (0.5 * plain, value - target);
        bool inside = Math.Abs(value - oldValue) < clip;
        return (0.5 * clipped, inside ? clippedValue - target : 0);
    }

    /// <summary>Mean and std of <paramref name="values"/> and the values whitened in place to zero mean and unit std (PPO's advantage normalisation).</summary>
    public static void Whiten(Span<double> values, double epsilon = 1e-8)
    {
        if (values.Length < 2) return;
        double mean = 0, variance = 0;
        foreach (double v in values) mean += v;
        mean /= values.Length;
        foreach (double v in values) variance += (v - mean) * (v - mean);
        double std = Math.Sqrt(variance / (values.Length - 1));
        for (int i = 0; i < values.Length; i++) values[i] = (values[i] - mean) / (std + epsilon);
    }
}
