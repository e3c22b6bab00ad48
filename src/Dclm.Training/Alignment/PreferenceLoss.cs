namespace Dclm.Training.Alignment;

/// <summary>The preference objective.</summary>
public enum PreferenceLossKind
{
    /// <summary>DPO (Rafailov et al. 2023): −log σ(β·h); with label smoothing ε, conservative DPO: −(1−ε)·log σ(β·h) − ε·log σ(−β·h).</summary>
    Sigmoid,
    /// <summary>IPO (Azar et al. 2023): (h − 1/(2β))², on log-probabilities averaged over each completion's tokens, as TRL computes it.</summary>
    Ipo,
}

/// <summary>One pair's loss, its gradient with respect to the policy's two log-probabilities, and its implicit rewards.</summary>
/// <param name="Loss">The pair's loss.</param>
/// <param name="ChosenGradient">∂loss/∂log π(chosen).</param>
/// <param name="RejectedGradient">∂loss/∂log π(rejected).</param>
/// <param name="ChosenReward">β·(log π(chosen) − log π_ref(chosen)).</param>
/// <param name="RejectedReward">β·(log π(rejected) − log π_ref(rejected)).</param>
public readonly record struct PreferenceTerms(double Loss, double ChosenGradient, double RejectedGradient, double ChosenReward, double RejectedReward)
{
    /// <summary>The implicit reward margin, chosen minus rejected.</summary>
    public double Margin => ChosenReward - RejectedReward;
}

/// <summary>
/// DPO-family losses of one pair from the four log-probabilities, with h = (log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r)).
/// Only the policy's terms carry gradients; the reference's are constants (cached once per pair).
/// </summary>
public static class PreferenceLoss
{
    /// <summary>The loss terms; for <see cref="PreferenceLossKind.Ipo"/> pass per-token mean log-probabilities.</summary>
    public static PreferenceTerms Compute(double policyChosen, double policyRejected, double referenceChosen, double referenceRejected,
        double beta, PreferenceLossKind kind = PreferenceLossKind.Sigmoid, double labelSmoothing = 0)
    {
        double chosen = policyChosen - referenceChosen, rejected = policyRejected - referenceRejected, h = chosen - rejected;
        double loss, gradient; // gradient = ∂loss/∂h
        if (kind == PreferenceLossKind.Ipo)
        {
            double gap = h - 1 / (2 * beta);
            loss = gap * gap;
            gradient = 2 * gap;
        }
        else
        {
            // −log σ(z) = softplus(−z); ∂/∂z [(1−ε)·softplus(−z) + ε·softplus(z)] = −(1−ε)·σ(−z) + ε·σ(z)
            double z = beta * h, e = labelSmoothing;
            loss = (1 - e) * Softplus(-z) + e * Softplus(z);
            gradient = beta * (-(1 - e) * Sigmoid(-z) + e * Sigmoid(z));
        }
        return new PreferenceTerms(loss, gradient, -gradient, beta * chosen, beta * rejected);
    }

    /// <summary>log(1 + eˣ) without overflow.</summary>
    public static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));

    /// <summary>1 / (1 + e⁻ˣ).</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
