using Dclm.Models;
using Dclm.Training.Graph;
using Dclm.Training.Kernels;

namespace Dclm.Training;

public sealed partial class TrainingModel
{
    /// <summary>From the head's gradient in <c>GradientNormed</c> back through the final norm and every block to the embedding.</summary>
    private void Backward(TrainingActivations a, ReadOnlySpan<int> inputs, CancellationToken cancellation)
    {
        var c = Config;
        int n = a.Batch * a.Sequence, d = c.Dim;
        _finalNorm.Backward(a.GradientNormed, d, a.LayerInputs[c.Layers], d, a.FinalMean, a.FinalInverseStd, n, a.Gradient, d, false, Pool);
        for (int l = c.Layers - 1; l >= 0; l--)
        {
            cancellation.ThrowIfCancellationRequested();
            if (a.Checkpointing) LayerForward(l, a, recompute: true);
            LayerBackward(l, a, cancellation);
        }
        _embedding.Backward(inputs[..n], a.Gradient, d);
    }

    /// <summary>Turns a.Gradient from ∂L/∂(block output) into ∂L/∂(block input), accumulating parameter gradients.</summary>
    private void LayerBackward(int l, TrainingActivations a, CancellationToken cancellation)
    {
        var c = Config;
        var w = _layers[l];
        var s = a.For(l);
        int n = a.Batch * a.Sequence, d = c.Dim;

        // Feed-forward block: the residual passes the gradient straight through to x_mid.
        a.Gradient.AsSpan(0, n * d).CopyTo(a.GradientMiddle);
        w.Down.Backward(a.Gradient, s.Hidden, n, a.GradientHidden, false, _pass);
        // Gate and up are not read again once SwiGLU's backward has run: their gradients overwrite them.
        SwiGluKernel.Backward(a.GradientHidden, s.Gate, s.Up, n, c.HiddenDim, s.Gate, s.Up, Pool);
        w.Gate.Backward(s.Gate, s.FeedForwardNormed, n, a.GradientNormed, false, _pass);
        w.Up.Backward(s.Up, s.FeedForwardNormed, n, a.GradientNormed, true, _pass);
        w.FeedForwardNorm.Backward(a.GradientNormed, d, s.Middle, d, s.FeedForwardMean, s.FeedForwardInverseStd, n, a.GradientMiddle, d, true, Pool);

        // Attention block.
        cancellation.ThrowIfCancellationRequested();
        a.GradientMiddle.AsSpan(0, n * d).CopyTo(a.Gradient);
        w.Output.Backward(a.GradientMiddle, s.Attention, n, a.GradientAttention, false, _pass);
        AttentionKernel.Backward(AttentionLayout(a), a.GradientAttention, s.Query, s.Key, s.Value, s.Probabilities,
            a.GradientQuery, a.GradientKey, a.GradientValue, Pool, a.DocumentStarts);
        if (w.Rope is { } rope)
        {
            rope.Backward(a.GradientQuery, n, c.QueryDim, a.Positions);
            rope.Backward(a.GradientKey, n, c.KeyValueDim, a.Positions);
        }
        // The attention output's gradient is spent: the raw queries' gradient goes into its buffer.
        var gradientQueryRaw = a.GradientAttention;
        QueryKeyNormBackward(w, a.GradientQuery, s.QueryRaw, s.QueryMean, s.QueryInverseStd, w.QueryNorm, c.Heads, n, gradientQueryRaw);
        QueryKeyNormBackward(w, a.GradientKey, s.KeyRaw, s.KeyMean, s.KeyInverseStd, w.KeyNorm, c.KeyValueHeads, n, a.GradientKeyRaw);
        // Biases are frozen and pass the gradient through unchanged.
        w.Query.Backward(gradientQueryRaw, s.AttentionNormed, n, a.GradientNormed, false, _pass);
        w.Key.Backward(a.GradientKeyRaw, s.AttentionNormed, n, a.GradientNormed, true, _pass);
        w.Value.Backward(a.GradientValue, s.AttentionNormed, n, a.GradientNormed, true, _pass);
        w.AttentionNorm.Backward(a.GradientNormed, d, a.LayerInputs[l], d, s.AttentionMean, s.AttentionInverseStd, n, a.Gradient, d, true, Pool);
    }

    private void QueryKeyNormBackward(TrainingLayer w, float[] gradient, float[] raw, float[] mean, float[] inverseStd, NormLayer? norm, int heads, int n, float[] rawGradient)
    {
        int width = heads * Config.HeadDim, hd = Config.HeadDim;
        switch (w.QueryKeyNormKind)
        {
            case QueryKeyNorm.FullWidth: norm!.Backward(gradient, width, raw, width, mean, inverseStd, n, rawGradient, width, false, Pool); break;
            case QueryKeyNorm.PerHead: norm!.Backward(gradient, hd, raw, hd, mean, inverseStd, n * heads, rawGradient, hd, false, Pool); break;
            default: gradient.AsSpan(0, n * width).CopyTo(rawGradient); break;
        }
    }
}
