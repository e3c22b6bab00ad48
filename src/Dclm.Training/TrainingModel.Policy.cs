using Dclm.Training.Kernels;

namespace Dclm.Training;

public sealed partial class TrainingModel
{
    // (batch, sequence) of the last PolicyForward pass, which PolicyBackward must follow; (0, 0) when none.
    private (int Batch, int Sequence) _policyShape;

    /// <summary>
    /// A policy's forward pass over <paramref name="inputs"/> (batch, sequence) without dropout: writes
    /// log π(targets[t] | inputs[..t]) of every position into <paramref name="logProbabilities"/> (0 where the target is
    /// negative) and returns the final hidden states (the model's own buffer, valid until the next pass) for a value head.
    /// The pass's activations are kept for <see cref="PolicyBackward"/>; <paramref name="cancellation"/> is checked before
    /// each block and each chunk of the head. (batch·sequence, dim)
    /// </summary>
    public ReadOnlySpan<float> PolicyForward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batch, int sequence, Span<float> logProbabilities,
        CancellationToken cancellation = default)
    {
        int n = batch * sequence;
        if (logProbabilities.Length < n) throw new ArgumentException($"{logProbabilities.Length} log-probabilities for {n} positions");
        _pass.DropoutKey = 0;
        var a = Forward(inputs, batch, sequence, default, cancellation);
        MaskTargets(a, targets, default, n);
        HeadForwardBackward(a, a.Targets, n, 0f, 0f, backward: false, cancellation);
        for (int t = 0; t < n; t++) logProbabilities[t] = -a.CrossEntropy[t];
        _policyShape = (batch, sequence);
        return a.FinalNormed.AsSpan(0, n * Config.Dim);
    }

    /// <summary>
    /// Adds Σ_t w_t·∇θ log π(a_t | s_t) + Σ g·∂h/∂θ to the gradients, for per-position weights
    /// <paramref name="tokenWeights"/> (batch·sequence; positions without a target are ignored) and, when not empty, a
    /// gradient <paramref name="hiddenGradient"/> on the final hidden states (a value head's; (batch·sequence, dim)), over
    /// the last <see cref="PolicyForward"/> pass, which must have run over the same <paramref name="inputs"/>. The head's
    /// logits are recomputed a chunk at a time, so (positions, vocabulary) never exists. Cancellation as in
    /// <see cref="ForwardBackward"/>.
    /// </summary>
    public void PolicyBackward(ReadOnlySpan<float> tokenWeights, ReadOnlySpan<float> hiddenGradient, ReadOnlySpan<int> inputs, CancellationToken cancellation = default)
    {
        var (batch, sequence) = _policyShape;
        if (batch == 0 || _activations is null) throw new InvalidOperationException("PolicyBackward must follow a PolicyForward pass");
        int n = batch * sequence, d = Config.Dim, v = Config.VocabularySize;
        if (tokenWeights.Length < n) throw new ArgumentException($"{tokenWeights.Length} token weights for the pass's {n} positions");
        if (!hiddenGradient.IsEmpty && hiddenGradient.Length != n * d) throw new ArgumentException($"the hidden-state gradient holds {hiddenGradient.Length} values, the pass had {n} × {d}");
        if (inputs.Length < n) throw new ArgumentException($"inputs hold {inputs.Length} tokens, fewer than the pass's {n}");
        _policyShape = default; // the backward pass overwrites activations a second backward would need
        var a = _activations;
        // ∂(−log π)/∂logits scaled by −w_t is w_t·∂log π/∂logits.
        var scales = new float[HeadChunk];
        for (int start = 0; start < n; start += HeadChunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(HeadChunk, n - start);
            for (int r = 0; r < rows; r++) scales[r] = -tokenWeights[start + r];
            var x = a.FinalNormed.AsSpan(start * d, rows * d);
            var logits = a.Logits.AsSpan(0, rows * v);
            _head.Forward(x, rows, logits, _pass);
            CrossEntropyKernel.ForwardBackward(logits, a.Targets.AsSpan(start, rows), rows, v, 0f, scales, a.CrossEntropy.AsSpan(start, rows), a.ZSquared.AsSpan(start, rows), Pool);
            _head.Backward(logits, x, rows, a.GradientNormed.AsSpan(start * d, rows * d), false, _pass);
        }
        if (!hiddenGradient.IsEmpty)
            System.Numerics.Tensors.TensorPrimitives.Add(a.GradientNormed.AsSpan(0, n * d), hiddenGradient, a.GradientNormed.AsSpan(0, n * d));
        Backward(a, inputs, cancellation);
    }
}
