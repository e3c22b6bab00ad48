namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>The terms of one update's sequences, summed over their tokens (divide by <see cref="Tokens"/> for means).</summary>
/// <param name="Loss">Σ of the per-token objective (the policy term, plus the KL penalty (GRPO) or the value term (PPO)).</param>
/// <param name="PolicyLoss">Σ of the clipped surrogate's loss.</param>
/// <param name="ValueLoss">Σ of the clipped value loss (PPO).</param>
/// <param name="Penalty">Σ of the k3 KL estimate against the reference.</param>
/// <param name="Clipped">Tokens whose clipped surrogate term was taken.</param>
/// <param name="Tokens">Actions counted.</param>
public readonly record struct PolicyTerms(double Loss, double PolicyLoss, double ValueLoss, double Penalty, int Clipped, int Tokens)
{
    /// <summary>The sum of two sets of terms.</summary>
    public static PolicyTerms operator +(PolicyTerms a, PolicyTerms b) =>
        new(a.Loss + b.Loss, a.PolicyLoss + b.PolicyLoss, a.ValueLoss + b.ValueLoss, a.Penalty + b.Penalty, a.Clipped + b.Clipped, a.Tokens + b.Tokens);
}

/// <summary>
/// The policy-gradient objective of a micro-batch of rollouts through a <see cref="TrainingModel"/>: one forward pass
/// gives ℓ = log π of every action (and, with a value head, V of every state), the per-token terms of
/// <see cref="PolicyLoss"/> give ∂L/∂ℓ and ∂L/∂V, and one backward pass adds them through the LM head and the value head
/// (<see cref="TrainingModel.PolicyBackward"/>). Sequences are padded to one length, so activations are allocated once.
/// <list type="bullet">
/// <item>GRPO: L = Σ_t [−min(ρ_t A, clip(ρ_t)A) + β·k3(ℓ_t, ℓ_ref,t)], the sequence's group-relative advantage A on every token.</item>
/// <item>PPO: L = Σ_t [−min(ρ_t A_t, clip(ρ_t)A_t) + c_v·½max((V_t − R_t)², (V_clip,t − R_t)²)], A_t and R_t from GAE over
/// rewards that carry the KL penalty.</item>
/// </list>
/// </summary>
public sealed class PolicyObjective
{
    private readonly TrainingModel _model;
    private readonly int[] _inputs, _targets;
    private readonly float[] _logProbabilities, _weights, _hiddenGradient;

    /// <summary>An objective over micro-batches of up to <paramref name="batch"/> sequences of up to <paramref name="length"/> + 1 tokens.</summary>
    public PolicyObjective(TrainingModel model, RewardHead? valueHead, int batch, int length, double clip, double klCoefficient, double valueCoefficient, double valueClip)
    {
        if (batch < 1 || length < 1) throw new ArgumentOutOfRangeException(nameof(batch), "batch and length must be positive");
        if (valueHead is not null && valueHead.Dim != model.Config.Dim) throw new ArgumentException($"the value head reads {valueHead.Dim} values, the model's width is {model.Config.Dim}");
        _model = model;
        ValueHead = valueHead;
        Batch = batch; Length = length; Clip = clip; KlCoefficient = klCoefficient; ValueCoefficient = valueCoefficient; ValueClip = valueClip;
        _inputs = new int[batch * length];
        _targets = new int[batch * length];
        _logProbabilities = new float[batch * length];
        _weights = new float[batch * length];
        _hiddenGradient = valueHead is null ? [] : new float[batch * length * model.Config.Dim];
    }

    /// <summary>The value head (PPO); null for GRPO, whose loss carries the KL penalty instead.</summary>
    public RewardHead? ValueHead { get; }
    /// <summary>Sequences per pass.</summary>
    public int Batch { get; }
    /// <summary>Positions per sequence.</summary>
    public int Length { get; }
    /// <summary>ε of the policy ratio's clip.</summary>
    public double Clip { get; }
    /// <summary>β of GRPO's k3 penalty in the loss (PPO puts its penalty in the rewards instead and ignores this).</summary>
    public double KlCoefficient { get; }
    /// <summary>c_v: the value loss's weight (PPO).</summary>
    public double ValueCoefficient { get; }
    /// <summary>ε of the value clip (PPO).</summary>
    public double ValueClip { get; }

    /// <summary>
    /// ℓ of every action of <paramref name="sequences"/> under the model as it is (and V of every state when there is a
    /// value head), into <paramref name="logProbabilities"/> and <paramref name="values"/> (null: not wanted); no gradients.
    /// </summary>
    public void Measure(IReadOnlyList<RolloutSequence> sequences, Func<RolloutSequence, double[]> logProbabilities, Func<RolloutSequence, double[]>? values,
        CancellationToken cancellation = default)
    {
        for (int start = 0; start < sequences.Count; start += Batch)
        {
            var part = Slice(sequences, start);
            var hidden = Forward(part, cancellation);
            for (int b = 0; b < part.Count; b++)
            {
                var s = part[b];
                var lp = logProbabilities(s);
                var v = values?.Invoke(s);
                for (int j = 0; j < s.Actions; j++)
                {
                    int position = b * Length + s.PromptLength - 1 + j;
                    lp[j] = _logProbabilities[position];
                    if (v is not null && ValueHead is not null) v[j] = ValueHead.Score(hidden.Slice(position * ValueHead.Dim, ValueHead.Dim));
                }
            }
        }
    }

    /// <summary>
    /// The terms of <paramref name="sequences"/> (at most <see cref="Batch"/>) under the model as it is, and
    /// <paramref name="scale"/>·∇θ L added to the gradients of the adapters (and of the value head).
    /// </summary>
    public PolicyTerms Accumulate(IReadOnlyList<RolloutSequence> sequences, double scale, CancellationToken cancellation = default) =>
        Run(sequences, scale, backward: true, cancellation);

    /// <summary>The terms of <paramref name="sequences"/> under the model as it is; no gradients.</summary>
    public PolicyTerms Evaluate(IReadOnlyList<RolloutSequence> sequences, CancellationToken cancellation = default) =>
        Run(sequences, 0, backward: false, cancellation);

    private PolicyTerms Run(IReadOnlyList<RolloutSequence> sequences, double scale, bool backward, CancellationToken cancellation)
    {
        if (sequences.Count > Batch) throw new ArgumentException($"{sequences.Count} sequences for a batch of {Batch}");
        var hidden = Forward(sequences, cancellation);
        Array.Clear(_weights);
        if (_hiddenGradient.Length > 0) Array.Clear(_hiddenGradient);
        var terms = default(PolicyTerms);
        int d = _model.Config.Dim;
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            for (int j = 0; j < s.Actions; j++)
            {
                int position = b * Length + s.PromptLength - 1 + j;
                double logProbability = _logProbabilities[position];
                var (policy, policyGradient, clipped) = PolicyLoss.Surrogate(logProbability, s.OldLogProbabilities[j], s.Advantages[j], Clip);
                var (penalty, penaltyGradient) = PolicyLoss.KlPenalty(logProbability, s.ReferenceLogProbabilities[j]);
                double loss = policy, gradient = policyGradient, valueLoss = 0;
                if (ValueHead is null)
                {
                    loss += KlCoefficient * penalty;
                    gradient += KlCoefficient * penaltyGradient;
                }
                else
                {
                    var h = hidden.Slice(position * d, d);
                    var (vl, valueGradient) = PolicyLoss.Value(ValueHead.Score(h), s.OldValues[j], s.Returns[j], ValueClip);
                    valueLoss = vl;
                    loss += ValueCoefficient * vl;
                    if (backward) ValueHead.Backward(h, scale * ValueCoefficient * valueGradient, _hiddenGradient.AsSpan(position * d, d));
                }
                _weights[position] = (float)(scale * gradient);
                terms += new PolicyTerms(loss, policy, valueLoss, penalty, clipped ? 1 : 0, 1);
            }
        }
        if (backward) _model.PolicyBackward(_weights, _hiddenGradient, _inputs, cancellation);
        return terms;
    }

    /// <summary>Fills inputs and targets (−1 outside the actions and over the padding) and runs the policy's forward pass.</summary>
    private ReadOnlySpan<float> Forward(IReadOnlyList<RolloutSequence> sequences, CancellationToken cancellation)
    {
        Array.Clear(_inputs);
        Array.Fill(_targets, -1);
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            if (s.Tokens.Length - 1 > Length) throw new ArgumentException($"a rollout of {s.Tokens.Length} tokens is longer than the objective's {Length + 1}");
            for (int t = 0; t < s.Tokens.Length - 1; t++)
            {
                _inputs[b * Length + t] = s.Tokens[t];
                if (t + 1 >= s.PromptLength) _targets[b * Length + t] = s.Tokens[t + 1];
            }
        }
        _model.DropoutKey = 0;
        return _model.PolicyForward(_inputs, _targets, Batch, Length, _logProbabilities, cancellation);
    }

    private List<RolloutSequence> Slice(IReadOnlyList<RolloutSequence> sequences, int start) =>
        Enumerable.Range(start, Math.Min(Batch, sequences.Count - start)).Select(i => sequences[i]).ToList();
}
