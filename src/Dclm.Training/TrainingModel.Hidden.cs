namespace Dclm.Training;

public sealed partial class TrainingModel
{
    // (batch, sequence) of the last HiddenStates pass, which BackwardFromHidden must follow; (0, 0) when none.
    private (int Batch, int Sequence) _hiddenShape;

    /// <summary>
    /// The final hidden states h (after the final norm, what the LM head reads) of <paramref name="inputs"/>
    /// (batch, sequence), for heads other than the LM head (a reward model's or a value head). Dropout follows
    /// <see cref="DropoutKey"/>. The span is the model's own buffer, valid until the next pass; the pass's activations
    /// are kept for <see cref="BackwardFromHidden"/>; <paramref name="cancellation"/> is checked before each block. (batch·sequence, dim)
    /// </summary>
    public ReadOnlySpan<float> HiddenStates(ReadOnlySpan<int> inputs, int batch, int sequence, ReadOnlySpan<int> documentStarts = default,
        CancellationToken cancellation = default)
    {
        _pass.DropoutKey = DropoutKey;
        var a = Forward(inputs, batch, sequence, documentStarts, cancellation);
        _hiddenShape = (batch, sequence);
        return a.FinalNormed.AsSpan(0, batch * sequence * Config.Dim);
    }

    /// <summary>
    /// Adds Σ g·∂h/∂θ to the gradients, for a gradient g = ∂L/∂h given on every final hidden state of the last
    /// <see cref="HiddenStates"/> pass, which must have run over the same <paramref name="inputs"/> (the LM head is
    /// not involved); <paramref name="cancellation"/> is checked before each block. (batch·sequence, dim)
    /// </summary>
    public void BackwardFromHidden(ReadOnlySpan<float> hiddenGradient, ReadOnlySpan<int> inputs, CancellationToken cancellation = default)
    {
        var (batch, sequence) = _hiddenShape;
        if (batch == 0 || _activations is null) throw new InvalidOperationException("BackwardFromHidden must follow a HiddenStates pass");
        int n = batch * sequence, d = Config.Dim;
        if (hiddenGradient.Length != n * d) throw new ArgumentException($"the hidden-state gradient holds {hiddenGradient.Length} values, the pass had {n} × {d}");
        if (inputs.Length < n) throw new ArgumentException($"inputs hold {inputs.Length} tokens, fewer than the pass's {n}");
        _hiddenShape = default; // the backward pass overwrites activations a second backward would need
        hiddenGradient.CopyTo(_activations.GradientNormed);
        Backward(_activations, inputs, cancellation);
    }
}
