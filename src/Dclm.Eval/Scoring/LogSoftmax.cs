namespace Dclm.Eval.Scoring;

/// <summary>Log-probabilities from one row of logits, computed in double for stability.</summary>
public static class LogSoftmax
{
    /// <summary>
    /// log p(<paramref name="target"/>) = z_t − max − log Σ_i exp(z_i − max), and the index of the largest
    /// logit (the first one on ties, as torch.argmax).
    /// </summary>
    public static double At(ReadOnlySpan<float> logits, int target, out int argmax)
    {
        if ((uint)target >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(target), $"token {target} is outside the {logits.Length} logits");
        argmax = 0;
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++) if (logits[i] > max) { max = logits[i]; argmax = i; }
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += Math.Exp((double)logits[i] - max);
        return (double)logits[target] - max - Math.Log(sum);
    }
}
