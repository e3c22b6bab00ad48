using System.Numerics.Tensors;
using Dclm.Tensors.Ops;

namespace Dclm.Eval.Scoring;

/// <summary>Log-probabilities from one row of logits.</summary>
public static class LogSoftmax
{
    [ThreadStatic] private static float[]? _scratch;

    /// <summary>
    /// log p(<paramref name="target"/>) = z_t − max − log Σ_i exp(z_i − max), and the index of the largest
    /// logit (the first one on ties, as torch.argmax). Shifting by the max keeps every exponent ≤ 0.
    /// </summary>
    public static double At(ReadOnlySpan<float> logits, int target, out int argmax)
    {
        if ((uint)target >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(target), $"token {target} is outside the {logits.Length} logits");
        argmax = TensorPrimitives.IndexOfMax(logits);
        float max = logits[argmax];
        if (_scratch is null || _scratch.Length < logits.Length) _scratch = new float[logits.Length];
        return logits[target] - VectorMath.LogSumExp(logits, max, _scratch);
    }
}
