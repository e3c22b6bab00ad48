using System.Numerics.Tensors;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training.Kernels;

namespace Dclm.Training;

/// <summary>Loss of one forward pass, averaged over the tokens that have targets.</summary>
/// <param name="CrossEntropy">Mean cross-entropy in nats.</param>
/// <param name="ZLoss">Mean λ·Z² added to the objective.</param>
/// <param name="Tokens">Tokens that had a target.</param>
public readonly record struct BatchLoss(double CrossEntropy, double ZLoss, int Tokens);

/// <summary>
/// An open_lm (DCLM) decoder that trains: fp32 master weights in one flat array, a forward pass that
/// saves what the backward pass needs, and an explicit backward pass that accumulates parameter
/// gradients. Batches are (batch, sequence) tokens; every sequence starts at position 0.
/// </summary>
public sealed class TrainingModel
{
    private const int HeadChunk = 64;
    private readonly ComputePool _pool;
    private readonly RopeKernel? _rope;
    private readonly Dictionary<int, float[]> _transposed = [];
    private long _transposedVersion = -1;
    private TrainingActivations? _activations;

    public TrainingModel(ParameterLayout layout, ComputePool pool)
    {
        Layout = layout;
        Config = layout.Config;
        if (Config.SlidingWindow > 0 || Config.Positions == PositionEncoding.Alibi || Config.Norm != NormKind.LayerNorm)
            throw new ArgumentException("training supports open_lm's layer norm, rotary or no positions, and full causal attention");
        Parameters = new float[layout.Count];
        Gradients = new float[layout.Count];
        _pool = pool;
        if (Config.Positions == PositionEncoding.Rotary) _rope = new RopeKernel(Config.HeadDim, Config.RopeTheta, Config.ContextLength);
    }

    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; }
    /// <summary>Where each tensor sits in <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public ParameterLayout Layout { get; }
    /// <summary>fp32 master weights. (parameters)</summary>
    public float[] Parameters { get; }
    /// <summary>Accumulated gradients, same layout. (parameters)</summary>
    public float[] Gradients { get; }
    /// <summary>Bumped whenever <see cref="Parameters"/> change, so cached transposes are rebuilt.</summary>
    public long Version { get; private set; }

    /// <summary>Call after changing <see cref="Parameters"/> from outside (optimizer step, loading).</summary>
    public void ParametersChanged() => Version++;

    /// <summary>Zeroes the accumulated gradients.</summary>
    public void ZeroGradients() => Array.Clear(Gradients);

    /// <summary>
    /// Forward and backward over <paramref name="inputs"/> (batch, sequence), predicting <paramref name="targets"/>
    /// (negative = no target). Adds ∂(mean loss)/∂θ · <paramref name="lossScale"/> to <see cref="Gradients"/>.
    /// </summary>
    public BatchLoss ForwardBackward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batch, int sequence, float zLoss, float lossScale = 1f)
    {
        var a = Forward(inputs, batch, sequence);
        int n = batch * sequence, counted = CountTargets(targets[..n]);
        float scale = counted == 0 ? 0f : lossScale / counted;
        HeadForwardBackward(a, targets, n, zLoss, scale, backward: true);
        Backward(a, inputs);
        return Summarize(a, n, counted, zLoss);
    }

    /// <summary>The loss of <paramref name="inputs"/> without touching gradients (validation).</summary>
    public BatchLoss Evaluate(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batch, int sequence, float zLoss)
    {
        var a = Forward(inputs, batch, sequence);
        int n = batch * sequence, counted = CountTargets(targets[..n]);
        HeadForwardBackward(a, targets, n, zLoss, 0f, backward: false);
        return Summarize(a, n, counted, zLoss);
    }

    /// <summary>Logits of every position of one sequence. (tokens, vocab)</summary>
    public void Logits(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int n = tokens.Length, d = Config.Dim, v = Config.VocabularySize;
        if (logits.Length < (long)n * v) throw new ArgumentException($"logits must hold {n} × {v} values");
        var a = Forward(tokens, 1, n);
        Gemm.Multiply(a.FinalNormed, d, 1, Transposed(Layout.Head), logits, n, d, v, false, _pool);
    }

    private static int CountTargets(ReadOnlySpan<int> targets)
    {
        int count = 0;
        foreach (int t in targets) if (t >= 0) count++;
        return count;
    }

    private static BatchLoss Summarize(TrainingActivations a, int n, int counted, float zLoss)
    {
        double ce = 0, z = 0;
        for (int t = 0; t < n; t++) { ce += a.CrossEntropy[t]; z += a.ZSquared[t]; }
        return counted == 0 ? new BatchLoss(0, 0, 0) : new BatchLoss(ce / counted, zLoss * z / counted, counted);
    }

    private TrainingActivations Forward(ReadOnlySpan<int> inputs, int batch, int sequence)
    {
        var c = Config;
        if (batch <= 0 || sequence <= 0) throw new ArgumentOutOfRangeException(nameof(batch), "batch and sequence must be positive");
        if (sequence > c.ContextLength) throw new ArgumentException($"sequence {sequence} is longer than the context of {c.ContextLength}");
        if (inputs.Length < batch * sequence) throw new ArgumentException($"inputs hold {inputs.Length} tokens, fewer than {batch} × {sequence}");
        RefreshTransposes();
        if (_activations is null || _activations.Batch != batch || _activations.Sequence != sequence)
            _activations = new TrainingActivations(c, batch, sequence, HeadChunk);
        var a = _activations;
        int n = batch * sequence, d = c.Dim, h = c.HiddenDim;
        var p = Parameters;
        EmbeddingKernel.Forward(inputs[..n], p.AsSpan(Layout.Embedding.Offset, Layout.Embedding.Length), d, a.Layers[0].Input);
        var layout = new AttentionKernel.Layout(batch, sequence, c.Heads, c.HeadDim, d, d, 3 * d, d);
        for (int l = 0; l < c.Layers; l++)
        {
            var s = a.Layers[l];
            var w = Layout.Layers[l];
            // x_mid = x + W_o · attention(rope(qnorm(W_q n(x))), rope(knorm(W_k n(x))), W_v n(x))
            LayerNormKernel.Forward(s.Input, Gain(w.AttentionNorm), c.NormEps, n, d, s.AttentionNormed, s.AttentionMean, s.AttentionInverseStd, _pool);
            Gemm.Multiply(s.AttentionNormed, d, 1, Transposed(w.InProjection), s.QueryKeyValue, n, d, 3 * d, false, _pool);
            QueryKeyForward(s, w, n);
            if (_rope is not null)
            {
                _rope.Forward(s.Query, n, d, sequence);
                _rope.Forward(s.Key, n, d, sequence);
            }
            AttentionKernel.Forward(layout, s.Query, s.Key, s.QueryKeyValue.AsSpan(2 * d), s.Attention, s.Probabilities, _pool);
            Gemm.Multiply(s.Attention, d, 1, Transposed(w.OutProjection), s.Middle, n, d, d, false, _pool);
            TensorPrimitives.Add(s.Middle, s.Input, s.Middle);

            // x_next = x_mid + W_3 · (silu(W_gate n(x_mid)) ⊙ W_up n(x_mid))
            LayerNormKernel.Forward(s.Middle, Gain(w.FeedForwardNorm), c.NormEps, n, d, s.FeedForwardNormed, s.FeedForwardMean, s.FeedForwardInverseStd, _pool);
            Gemm.Multiply(s.FeedForwardNormed, d, 1, Transposed(w.GateUp), s.GateUp, n, d, 2 * h, false, _pool);
            SwiGluKernel.Forward(s.GateUp, n, h, s.Hidden, _pool);
            var next = l + 1 < c.Layers ? a.Layers[l + 1].Input : a.Output;
            Gemm.Multiply(s.Hidden, h, 1, Transposed(w.Down), next, n, h, d, false, _pool);
            TensorPrimitives.Add(next.AsSpan(0, n * d), s.Middle, next.AsSpan(0, n * d));
        }
        LayerNormKernel.Forward(a.Output, Gain(Layout.FinalNorm), c.NormEps, n, d, a.FinalNormed, a.FinalMean, a.FinalInverseStd, _pool);
        return a;
    }

    private void QueryKeyForward(LayerActivations s, LayerParameters w, int n)
    {
        int d = Config.Dim;
        if (w.QueryNorm is { } qn && w.KeyNorm is { } kn)
        {
            // open_lm normalises Q and K over their full width, before the head split.
            LayerNormKernel.Forward(s.QueryKeyValue, 3 * d, Gain(qn), Config.NormEps, n, d, s.Query, d, s.QueryMean, s.QueryInverseStd, _pool);
            LayerNormKernel.Forward(s.QueryKeyValue.AsSpan(d), 3 * d, Gain(kn), Config.NormEps, n, d, s.Key, d, s.KeyMean, s.KeyInverseStd, _pool);
            return;
        }
        for (int t = 0; t < n; t++)
        {
            s.QueryKeyValue.AsSpan(t * 3 * d, d).CopyTo(s.Query.AsSpan(t * d, d));
            s.QueryKeyValue.AsSpan(t * 3 * d + d, d).CopyTo(s.Key.AsSpan(t * d, d));
        }
    }

    /// <summary>Logits, loss and (optionally) the head's backward, a chunk of rows at a time so (N, vocab) never exists.</summary>
    private void HeadForwardBackward(TrainingActivations a, ReadOnlySpan<int> targets, int n, float zLoss, float scale, bool backward)
    {
        int d = Config.Dim, v = Config.VocabularySize;
        var headTransposed = Transposed(Layout.Head);
        var head = Parameters.AsSpan(Layout.Head.Offset, Layout.Head.Length);
        var headGradient = Gradients.AsSpan(Layout.Head.Offset, Layout.Head.Length);
        for (int start = 0; start < n; start += HeadChunk)
        {
            int rows = Math.Min(HeadChunk, n - start);
            var x = a.FinalNormed.AsSpan(start * d, rows * d);
            Gemm.Multiply(x, d, 1, headTransposed, a.Logits, rows, d, v, false, _pool);
            CrossEntropyKernel.ForwardBackward(a.Logits, targets.Slice(start, rows), rows, v, zLoss, scale,
                a.CrossEntropy.AsSpan(start, rows), a.ZSquared.AsSpan(start, rows), _pool);
            if (!backward) continue;
            Gemm.Multiply(a.Logits, v, 1, head, a.GradientNormed.AsSpan(start * d), rows, v, d, false, _pool);
            Gemm.Multiply(a.Logits, 1, v, x, headGradient, v, rows, d, true, _pool);
        }
    }

    private void Backward(TrainingActivations a, ReadOnlySpan<int> inputs)
    {
        var c = Config;
        int n = a.Batch * a.Sequence, d = c.Dim, h = c.HiddenDim;
        var layout = new AttentionKernel.Layout(a.Batch, a.Sequence, c.Heads, c.HeadDim, d, d, 3 * d, d);
        LayerNormKernel.Backward(a.GradientNormed, d, a.Output, d, Gain(Layout.FinalNorm), a.FinalMean, a.FinalInverseStd, n, d,
            a.Gradient, d, false, Grad(Layout.FinalNorm), _pool);
        for (int l = c.Layers - 1; l >= 0; l--)
        {
            var s = a.Layers[l];
            var w = Layout.Layers[l];
            // Feed-forward block: the residual passes the gradient straight through to x_mid.
            a.Gradient.AsSpan(0, n * d).CopyTo(a.GradientMiddle);
            Gemm.Multiply(a.Gradient, d, 1, Weight(w.Down), a.GradientHidden, n, d, h, false, _pool);
            Gemm.Multiply(a.Gradient, 1, d, s.Hidden, Grad(w.Down), d, n, h, true, _pool);
            SwiGluKernel.Backward(a.GradientHidden, s.GateUp, n, h, a.GradientGateUp, _pool);
            Gemm.Multiply(a.GradientGateUp, 2 * h, 1, Weight(w.GateUp), a.GradientNormed, n, 2 * h, d, false, _pool);
            Gemm.Multiply(a.GradientGateUp, 1, 2 * h, s.FeedForwardNormed, Grad(w.GateUp), 2 * h, n, d, true, _pool);
            LayerNormKernel.Backward(a.GradientNormed, d, s.Middle, d, Gain(w.FeedForwardNorm), s.FeedForwardMean, s.FeedForwardInverseStd, n, d,
                a.GradientMiddle, d, true, Grad(w.FeedForwardNorm), _pool);

            // Attention block.
            a.GradientMiddle.AsSpan(0, n * d).CopyTo(a.Gradient);
            Gemm.Multiply(a.GradientMiddle, d, 1, Weight(w.OutProjection), a.GradientAttention, n, d, d, false, _pool);
            Gemm.Multiply(a.GradientMiddle, 1, d, s.Attention, Grad(w.OutProjection), d, n, d, true, _pool);
            AttentionKernel.Backward(layout, a.GradientAttention, s.Query, s.Key, s.QueryKeyValue.AsSpan(2 * d), s.Probabilities,
                a.GradientQuery, a.GradientKey, a.GradientQueryKeyValue.AsSpan(2 * d), _pool);
            if (_rope is not null)
            {
                _rope.Backward(a.GradientQuery, n, d, a.Sequence);
                _rope.Backward(a.GradientKey, n, d, a.Sequence);
            }
            QueryKeyBackward(a, s, w, n);
            Gemm.Multiply(a.GradientQueryKeyValue, 3 * d, 1, Weight(w.InProjection), a.GradientNormed, n, 3 * d, d, false, _pool);
            Gemm.Multiply(a.GradientQueryKeyValue, 1, 3 * d, s.AttentionNormed, Grad(w.InProjection), 3 * d, n, d, true, _pool);
            LayerNormKernel.Backward(a.GradientNormed, d, s.Input, d, Gain(w.AttentionNorm), s.AttentionMean, s.AttentionInverseStd, n, d,
                a.Gradient, d, true, Grad(w.AttentionNorm), _pool);
        }
        EmbeddingKernel.Backward(inputs[..n], a.Gradient, d, Grad(Layout.Embedding));
    }

    private void QueryKeyBackward(TrainingActivations a, LayerActivations s, LayerParameters w, int n)
    {
        int d = Config.Dim;
        if (w.QueryNorm is { } qn && w.KeyNorm is { } kn)
        {
            LayerNormKernel.Backward(a.GradientQuery, d, s.QueryKeyValue, 3 * d, Gain(qn), s.QueryMean, s.QueryInverseStd, n, d,
                a.GradientQueryKeyValue, 3 * d, false, Grad(qn), _pool);
            LayerNormKernel.Backward(a.GradientKey, d, s.QueryKeyValue.AsSpan(d), 3 * d, Gain(kn), s.KeyMean, s.KeyInverseStd, n, d,
                a.GradientQueryKeyValue.AsSpan(d), 3 * d, false, Grad(kn), _pool);
            return;
        }
        for (int t = 0; t < n; t++)
        {
            a.GradientQuery.AsSpan(t * d, d).CopyTo(a.GradientQueryKeyValue.AsSpan(t * 3 * d, d));
            a.GradientKey.AsSpan(t * d, d).CopyTo(a.GradientQueryKeyValue.AsSpan(t * 3 * d + d, d));
        }
    }

    private ReadOnlySpan<float> Gain(ParameterTensor t) => Parameters.AsSpan(t.Offset, t.Length);
    private ReadOnlySpan<float> Weight(ParameterTensor t) => Parameters.AsSpan(t.Offset, t.Length);
    private Span<float> Grad(ParameterTensor t) => Gradients.AsSpan(t.Offset, t.Length);

    /// <summary>Wᵀ (columns, rows) of a matrix, cached until the parameters change.</summary>
    private float[] Transposed(ParameterTensor t) => _transposed[t.Offset];

    private void RefreshTransposes()
    {
        if (_transposedVersion == Version) return;
        foreach (var tensor in Layout.Tensors)
        {
            if (tensor.IsNorm || (tensor == Layout.Embedding && !Config.TiedEmbeddings)) continue;
            if (!_transposed.TryGetValue(tensor.Offset, out var buffer)) _transposed[tensor.Offset] = buffer = new float[tensor.Length];
            Transpose(Parameters.AsSpan(tensor.Offset, tensor.Length), tensor.Rows, tensor.Columns, buffer);
        }
        _transposedVersion = Version;
    }

    private unsafe void Transpose(ReadOnlySpan<float> source, int rows, int columns, float[] destination)
    {
        fixed (float* ps = source, pd = destination)
        {
            float* s = ps, dst = pd;
            // Blocks of 32 source rows keep both sides' cache lines in use.
            ParallelRows.Run(_pool, (rows + 31) / 32, (start, end) =>
            {
                for (int block = start; block < end; block++)
                {
                    int r0 = block * 32, r1 = Math.Min(rows, r0 + 32);
                    for (int c0 = 0; c0 < columns; c0 += 32)
                    {
                        int c1 = Math.Min(columns, c0 + 32);
                        for (int r = r0; r < r1; r++)
                            for (int c = c0; c < c1; c++) dst[(long)c * rows + r] = s[(long)r * columns + c];
                    }
                }
            }, chunk: 4);
        }
    }
}
