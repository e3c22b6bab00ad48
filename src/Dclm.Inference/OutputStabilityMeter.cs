using System.Numerics.Tensors;

namespace Dclm.Inference;

/// <summary>
/// Accumulates <see cref="OutputStability"/> while a sequence decodes: one <see cref="Observe"/> per drawn token over
/// the logits the sampler already has, into running sums (no allocation per token), and the visible text's
/// non-blank characters. One per sequence; not thread-safe.
/// </summary>
public sealed class OutputStabilityMeter
{
    private double _logprobSum, _entropySum;
    private int _tokens, _visible;

    /// <summary>Tokens measured so far.</summary>
    public int MeasuredTokens => _tokens;

    /// <summary>Forgets everything measured (a new generation).</summary>
    public void Reset() => (_logprobSum, _entropySum, _tokens, _visible) = (0, 0, 0, 0);

    /// <summary>Adds the token <paramref name="chosen"/> drawn from <paramref name="logits"/> (the model's raw scores); <paramref name="scratch"/> holds at least as many floats.</summary>
    public void Observe(ReadOnlySpan<float> logits, int chosen, Span<float> scratch)
    {
        var (logprob, entropy) = Measure(logits, chosen, scratch);
        Add(logprob, entropy);
    }

    /// <summary>Adds a drawn token by its <see cref="Measure"/> (taken where the logits were, on another thread).</summary>
    public void Add(double logprob, double entropy)
    {
        _logprobSum += logprob;
        _entropySum += entropy;
        _tokens++;
    }

    /// <summary>Counts the non-blank characters of newly visible text.</summary>
    public void Text(ReadOnlySpan<char> piece)
    {
        foreach (char c in piece) if (!char.IsWhiteSpace(c)) _visible++;
    }

    /// <summary>The measurements of an output whose generated tokens are <paramref name="output"/>.</summary>
    public OutputStability Result(ReadOnlySpan<int> output, FinishReason reason) => new(
        _tokens == 0 ? double.NaN : _logprobSum / _tokens, _tokens == 0 ? double.NaN : _entropySum / _tokens,
        OutputStability.Repetition(output), _tokens, _visible == 0, reason == FinishReason.Length);

    /// <summary>
    /// log p(chosen) and H = −Σ p·log p of softmax(<paramref name="logits"/>), in vector passes: with m = max ℓ,
    /// e = exp(ℓ − m), S = Σe and log Z = m + log S, log p(c) = ℓ_c − log Z and H = log S − Σ e·(ℓ − m) / S.
    /// </summary>
    public static (double Logprob, double Entropy) Measure(ReadOnlySpan<float> logits, int chosen, Span<float> scratch)
    {
        float max = TensorPrimitives.Max(logits);
        var e = scratch[..logits.Length];
        TensorPrimitives.Subtract(logits, max, e);
        // Σe and Σe·(ℓ − m) in float blocks added up in double: a float sum over a 50k vocabulary of tiny tails drifts by 1e-4.
        double sum = 0, weighted = 0;
        for (int start = 0; start < e.Length; start += Block)
        {
            int count = Math.Min(Block, e.Length - start);
            weighted += TensorPrimitives.Dot<float>(Exponentials(e.Slice(start, count), out float blockSum), logits.Slice(start, count)) - (double)max * blockSum;
            sum += blockSum;
        }
        double logSum = Math.Log(sum);
        return (logits[chosen] - max - logSum, Math.Max(0, logSum - weighted / sum));
    }

    private const int Block = 512;

    // Replaces x by exp(x) in place and gives its sum.
    private static ReadOnlySpan<float> Exponentials(Span<float> x, out float sum)
    {
        TensorPrimitives.Exp(x, x);
        sum = TensorPrimitives.Sum<float>(x);
        return x;
    }
}
