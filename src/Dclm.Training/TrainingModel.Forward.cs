using Dclm.Models;
using System.Numerics.Tensors;
using Dclm.Training.Graph;
using Dclm.Training.Kernels;

namespace Dclm.Training;

public sealed partial class TrainingModel
{
    private TrainingActivations Forward(ReadOnlySpan<int> inputs, int batch, int sequence, ReadOnlySpan<int> documentStarts, CancellationToken cancellation)
    {
        var c = Config;
        _hiddenShape = default; // this pass replaces the activations a BackwardFromHidden or PolicyBackward would read
        _policyShape = default;
        if (batch <= 0 || sequence <= 0) throw new ArgumentOutOfRangeException(nameof(batch), "batch and sequence must be positive");
        if (sequence > c.ContextLength) throw new ArgumentException($"sequence {sequence} is longer than the context of {c.ContextLength}");
        if (inputs.Length < batch * sequence) throw new ArgumentException($"inputs hold {inputs.Length} tokens, fewer than {batch} × {sequence}");
        if (_activations is null || _activations.Batch != batch || _activations.Sequence != sequence || _activations.Checkpointing != GradientCheckpointing)
        {
            _activations = null; // let the old set go before the new one is allocated
            _activations = new TrainingActivations(c, batch, sequence, HeadChunk, GradientCheckpointing);
        }
        var a = _activations;
        int n = batch * sequence, d = c.Dim;
        SetPositions(a, documentStarts, n, sequence);
        _embedding.Forward(inputs[..n], d, a.LayerInputs[0]);
        for (int l = 0; l < c.Layers; l++)
        {
            cancellation.ThrowIfCancellationRequested();
            LayerForward(l, a, recompute: false);
        }
        _finalNorm.Forward(a.LayerInputs[c.Layers], d, n, a.FinalNormed, d, a.FinalMean, a.FinalInverseStd, Pool);
        return a;
    }

    /// <summary>Each row's document start (validated) and its RoPE position, counted from that start.</summary>
    private static void SetPositions(TrainingActivations a, ReadOnlySpan<int> documentStarts, int n, int sequence)
    {
        if (!documentStarts.IsEmpty && documentStarts.Length < n) throw new ArgumentException($"document starts hold {documentStarts.Length} values, fewer than the {n} tokens");
        for (int t = 0; t < n; t++)
        {
            int i = t % sequence, start = documentStarts.IsEmpty ? 0 : documentStarts[t];
            if ((uint)start > (uint)i) throw new ArgumentOutOfRangeException(nameof(documentStarts), $"token {i} of a sequence cannot belong to a document starting at {start}");
            a.DocumentStarts[t] = start;
            a.Positions[t] = i - start;
        }
    }

    /// <summary>
    /// Block l from its saved input: attention then feed-forward, saving into the block's activations. A
    /// recompute (under checkpointing) stops at the SwiGLU output, all the backward pass reads; the block's
    /// output is already saved as the next block's input.
    /// </summary>
    private void LayerForward(int l, TrainingActivations a, bool recompute)
    {
        var c = Config;
        var w = _layers[l];
        var s = a.For(l);
        var x = a.LayerInputs[l];
        int n = a.Batch * a.Sequence, d = c.Dim;

        // x_mid = x + W_o · attention(rope(norm_q(W_q n(x))), rope(norm_k(W_k n(x))), W_v n(x))
        w.AttentionNorm.Forward(x, d, n, s.AttentionNormed, d, s.AttentionMean, s.AttentionInverseStd, Pool);
        w.Query.Forward(s.AttentionNormed, n, s.QueryRaw, _pass);
        w.Key.Forward(s.AttentionNormed, n, s.KeyRaw, _pass);
        w.Value.Forward(s.AttentionNormed, n, s.Value, _pass);
        AddBias(s.QueryRaw, w.QueryBias, n);
        AddBias(s.KeyRaw, w.KeyBias, n);
        AddBias(s.Value, w.ValueBias, n);
        QueryKeyNormForward(w, s.QueryRaw, s.Query, s.QueryMean, s.QueryInverseStd, w.QueryNorm, c.Heads, n);
        QueryKeyNormForward(w, s.KeyRaw, s.Key, s.KeyMean, s.KeyInverseStd, w.KeyNorm, c.KeyValueHeads, n);
        if (w.Rope is { } rope)
        {
            rope.Forward(s.Query, n, c.QueryDim, a.Positions);
            rope.Forward(s.Key, n, c.KeyValueDim, a.Positions);
        }
        AttentionKernel.Forward(AttentionLayout(a), s.Query, s.Key, s.Value, s.Attention, s.Probabilities, Pool, a.DocumentStarts);
        w.Output.Forward(s.Attention, n, s.Middle, _pass);
        TensorPrimitives.Add(s.Middle, x, s.Middle);

        // x_next = x_mid + W_down · (silu(W_gate n(x_mid)) ⊙ W_up n(x_mid))
        w.FeedForwardNorm.Forward(s.Middle, d, n, s.FeedForwardNormed, d, s.FeedForwardMean, s.FeedForwardInverseStd, Pool);
        w.Gate.Forward(s.FeedForwardNormed, n, s.Gate, _pass);
        w.Up.Forward(s.FeedForwardNormed, n, s.Up, _pass);
        SwiGluKernel.Forward(s.Gate, s.Up, n, c.HiddenDim, s.Hidden, Pool);
        if (recompute) return;
        var next = a.LayerInputs[l + 1];
        w.Down.Forward(s.Hidden, n, next, _pass);
        TensorPrimitives.Add(next, s.Middle, next);
    }

    private AttentionKernel.Layout AttentionLayout(TrainingActivations a)
    {
        var c = Config;
        return new AttentionKernel.Layout(a.Batch, a.Sequence, c.Heads, c.KeyValueHeads, c.HeadDim, c.QueryDim, c.KeyValueDim, c.KeyValueDim, c.QueryDim)
        {
            Window = c.SlidingWindow, Slopes = _alibiSlopes,
        };
    }

    private static void AddBias(float[] rows, float[]? bias, int n)
    {
        if (bias is null) return;
        for (int t = 0; t < n; t++)
        {
            var row = rows.AsSpan(t * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>open_lm's LayerNorm over the full width, Qwen3's RMSNorm per head, or a copy.</summary>
    private void QueryKeyNormForward(TrainingLayer w, float[] raw, float[] normed, float[] mean, float[] inverseStd, NormLayer? norm, int heads, int n)
    {
        int width = heads * Config.HeadDim;
        switch (w.QueryKeyNormKind)
        {
            case QueryKeyNorm.FullWidth: norm!.Forward(raw, width, n, normed, width, mean, inverseStd, Pool); break;
            case QueryKeyNorm.PerHead: norm!.Forward(raw, Config.HeadDim, n * heads, normed, Config.HeadDim, mean, inverseStd, Pool); break;
            default: raw.AsSpan(0, n * width).CopyTo(normed); break;
        }
    }
}
