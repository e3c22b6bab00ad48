using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// log π(completion | prompt) of one sequence through a <see cref="TrainingModel"/> (the sum of log-probabilities of
/// its learned tokens), and the backward pass that adds c·∇θ log π to the gradients. Every sequence is padded to one
/// length, so the model's activations are allocated once; causal attention keeps the padding from touching the rest.
/// </summary>
public sealed class SequenceScorer
{
    private readonly TrainingModel _model;
    private readonly int[] _inputs, _targets;

    /// <summary>A scorer for sequences of up to <paramref name="length"/> + 1 tokens.</summary>
    public SequenceScorer(TrainingModel model, int length)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), "length must be positive");
        _model = model;
        Length = length;
        _inputs = new int[length];
        _targets = new int[length];
    }

    /// <summary>Positions a pass runs (tokens − 1 of the longest sequence).</summary>
    public int Length { get; }

    /// <summary>The sum of log π over <paramref name="example"/>'s learned tokens, and how many there are; no gradients.</summary>
    public (double LogProbability, int Tokens) Score(FineTuningExample example)
    {
        Fill(example);
        _model.DropoutKey = 0;
        var loss = _model.Evaluate(_inputs, _targets, 1, Length, 0f);
        return (-loss.CrossEntropy * loss.Tokens, loss.Tokens);
    }

    /// <summary>
    /// Adds <paramref name="coefficient"/>·∇θ log π(<paramref name="example"/>) to the gradients and returns log π.
    /// </summary>
    public double Backward(FineTuningExample example, double coefficient)
    {
        int tokens = Fill(example);
        _model.DropoutKey = 0;
        // ForwardBackward adds s·∇(mean cross-entropy) = −(s / N)·∇ log π, so s = −c·N.
        var loss = _model.ForwardBackward(_inputs, _targets, 1, Length, 0f, (float)(-coefficient * tokens));
        return -loss.CrossEntropy * loss.Tokens;
    }

    /// <summary>Inputs and targets (−1 where a token is not learned, and over the padding); returns the learned count.</summary>
    private int Fill(FineTuningExample example)
    {
        int n = example.Tokens.Length - 1;
        if (n > Length) throw new ArgumentException($"a sequence of {example.Tokens.Length} tokens is longer than the scorer's {Length + 1}");
        int learned = 0;
        for (int t = 0; t < Length; t++)
        {
            bool inside = t < n;
            _inputs[t] = inside ? example.Tokens[t] : 0;
            _targets[t] = inside && example.Learned[t + 1] ? example.Tokens[t + 1] : -1;
            if (_targets[t] >= 0) learned++;
        }
        return learned;
    }
}
