using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// The Bradley–Terry objective of a reward model (Ouyang et al. 2022; TRL's RewardTrainer): with r = head(h of the
/// sequence's last token) for each side, the loss of a pair is −log σ(r_c − r_r), the negative log-likelihood that the
/// chosen side wins. Both sides go through the model as one batch of two sequences padded to one length (causal
/// attention keeps the padding from reaching the real tokens), so a pair costs one forward and one backward pass.
/// </summary>
public sealed class RewardObjective
{
    private readonly TrainingModel _model;
    private readonly int[] _inputs;
    private readonly float[] _hiddenGradient;

    /// <summary>An objective for sequences of up to <paramref name="length"/> tokens.</summary>
    public RewardObjective(TrainingModel model, RewardHead head, int length)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), "length must be positive");
        if (head.Dim != model.Config.Dim) throw new ArgumentException($"the head reads {head.Dim} values, the model's hidden width is {model.Config.Dim}");
        _model = model;
        Head = head;
        Length = length;
        _inputs = new int[2 * length];
        _hiddenGradient = new float[2 * length * model.Config.Dim];
    }

    /// <summary>The scalar head.</summary>
    public RewardHead Head { get; }

    /// <summary>Positions a pass runs: the longest sequence's tokens.</summary>
    public int Length { get; }

    /// <summary>
    /// The loss terms of rewards <paramref name="chosen"/> and <paramref name="rejected"/>: loss = −log σ(m) with
    /// m = r_c − r_r, ∂loss/∂r_c = −σ(−m), ∂loss/∂r_r = σ(−m); the rewards are reported as they are.
    /// </summary>
    public static PreferenceTerms Terms(double chosen, double rejected)
    {
        double m = chosen - rejected;
        // −log σ(m) = softplus(−m) = max(−m, 0) + log(1 + e^(−|m|)), finite for any m.
        double loss = Math.Max(-m, 0) + Math.Log(1 + Math.Exp(-Math.Abs(m)));
        double weight = m >= 0 ? Math.Exp(-m) / (1 + Math.Exp(-m)) : 1 / (1 + Math.Exp(m)); // σ(−m)
        return new PreferenceTerms(loss, -weight, weight, chosen, rejected);
    }

    /// <summary>The pair's rewards and loss under the model as it is; no gradients, no dropout.</summary>
    public PreferenceTerms Evaluate(PreferencePair pair)
    {
        Rewards(pair, out double chosen, out double rejected);
        return Terms(chosen, rejected);
    }

    /// <summary>The pair's terms, and <paramref name="weight"/>·∇θ loss added to the adapters' and the head's gradients.</summary>
    public PreferenceTerms Accumulate(PreferencePair pair, double weight)
    {
        var hidden = Rewards(pair, out double chosen, out double rejected);
        var terms = Terms(chosen, rejected);
        int d = Head.Dim;
        Array.Clear(_hiddenGradient);
        int lastChosen = pair.Chosen.Tokens.Length - 1, lastRejected = Length + pair.Rejected.Tokens.Length - 1;
        Head.Backward(hidden.Slice(lastChosen * d, d), weight * terms.ChosenGradient, _hiddenGradient.AsSpan(lastChosen * d, d));
        Head.Backward(hidden.Slice(lastRejected * d, d), weight * terms.RejectedGradient, _hiddenGradient.AsSpan(lastRejected * d, d));
        _model.BackwardFromHidden(_hiddenGradient, _inputs);
        return terms;
    }

    /// <summary>The reward of each side (the head on its last token's hidden state) and the pass's hidden states.</summary>
    private ReadOnlySpan<float> Rewards(PreferencePair pair, out double chosen, out double rejected)
    {
        Fill(pair.Chosen, 0);
        Fill(pair.Rejected, 1);
        _model.DropoutKey = 0;
        var hidden = _model.HiddenStates(_inputs, 2, Length);
        int d = Head.Dim;
        int lastChosen = pair.Chosen.Tokens.Length - 1, lastRejected = Length + pair.Rejected.Tokens.Length - 1;
        chosen = Head.Score(hidden.Slice(lastChosen * d, d));
        rejected = Head.Score(hidden.Slice(lastRejected * d, d));
        return hidden;
    }

    private void Fill(FineTuningExample example, int row)
    {
        var tokens = example.Tokens;
        if (tokens.Length > Length) throw new ArgumentException($"a sequence of {tokens.Length} tokens is longer than the objective's {Length}");
        var destination = _inputs.AsSpan(row * Length, Length);
        destination.Clear();
        tokens.CopyTo(destination);
    }
}
