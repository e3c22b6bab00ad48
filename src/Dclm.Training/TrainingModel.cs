using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training.Graph;
using Dclm.Training.Kernels;

namespace Dclm.Training;

/// <summary>Loss of one forward pass, averaged over the tokens that have targets.</summary>
/// <param name="CrossEntropy">Mean cross-entropy in nats.</param>
/// <param name="ZLoss">Mean λ·Z² added to the objective.</param>
/// <param name="Tokens">Tokens that had a target.</param>
public readonly record struct BatchLoss(double CrossEntropy, double ZLoss, int Tokens);

/// <summary>
/// A decoder that trains (open_lm/DCLM, Llama, Qwen2, Qwen3 graphs): a forward pass that saves what the
/// backward pass needs, and an explicit backward pass that accumulates the gradients of whatever trains.
/// Every matrix product goes through a <see cref="Projection"/>, so full training (fp32 weights, all
/// trainable) and LoRA (a frozen base in its stored type with adapters) are the same graph. Batches are
/// (batch, sequence) tokens; each sequence may pack several documents, which never attend to one another
/// and each start at RoPE position 0.
/// </summary>
public sealed partial class TrainingModel
{
    private const int HeadChunk = 64;
    private readonly TokenEmbedding _embedding;
    private readonly TrainingLayer[] _layers;
    private readonly NormLayer _finalNorm;
    private readonly Projection _head;
    private readonly PassContext _pass;
    // ALiBi's per-head slopes when the scores carry its bias, else null. (heads)
    private readonly float[]? _alibiSlopes;
    private TrainingActivations? _activations;

    /// <summary>A model over the given pieces; <paramref name="parameters"/> lists every tensor that trains.</summary>
    public TrainingModel(ModelConfig config, TokenEmbedding embedding, TrainingLayer[] layers, NormLayer finalNorm, Projection head,
        IReadOnlyList<ParameterTensor> parameters, ParameterVersion version, ComputePool pool)
    {
        Config = config.Validate();
        if (layers.Length != config.Layers) throw new ArgumentException($"{layers.Length} layers given, the config has {config.Layers}");
        _embedding = embedding;
        _layers = layers;
        _finalNorm = finalNorm;
        _head = head;
        Parameters = parameters.Where(p => p.Trainable).ToArray();
        Version = version;
        Pool = pool;
        _pass = new PassContext(pool);
        _alibiSlopes = config.UsesAlibi ? AlibiSlopes.For(config.Heads) : null;
    }

    /// <summary>Full training of an open_lm model: every tensor of <paramref name="parameters"/> trains.</summary>
    public static TrainingModel Full(ModelParameters parameters, ComputePool pool)
    {
        var c = parameters.Config;
        if (c.Norm != NormKind.LayerNorm) throw new ArgumentException("full training supports open_lm's layer norm");
        var version = new ParameterVersion();
        int d = c.Dim, h = c.HiddenDim;
        var rope = c.UsesRotary ? new RopeKernel(c.HeadDim, c.RopeTheta, c.ContextLength) : null;
        var layers = parameters.Layers.Select(l => new TrainingLayer
        {
            AttentionNorm = new NormLayer(NormKind.LayerNorm, l.AttentionNorm, c.NormEps),
            Query = new DenseProjection(l.InProjection, 0, d, version),
            Key = new DenseProjection(l.InProjection, d, d, version),
            Value = new DenseProjection(l.InProjection, 2 * d, d, version),
            QueryKeyNormKind = l.QueryNorm is null ? QueryKeyNorm.None : QueryKeyNorm.FullWidth,
            QueryNorm = l.QueryNorm is { } qn ? new NormLayer(NormKind.LayerNorm, qn, c.NormEps) : null,
            KeyNorm = l.KeyNorm is { } kn ? new NormLayer(NormKind.LayerNorm, kn, c.NormEps) : null,
            Rope = rope,
            Output = new DenseProjection(l.OutProjection, version),
            FeedForwardNorm = new NormLayer(NormKind.LayerNorm, l.FeedForwardNorm, c.NormEps),
            Gate = new DenseProjection(l.GateUp, 0, h, version),
            Up = new DenseProjection(l.GateUp, h, h, version),
            Down = new DenseProjection(l.Down, version),
        }).ToArray();
        return new TrainingModel(c, new TokenEmbedding(parameters.Embedding), layers, new NormLayer(NormKind.LayerNorm, parameters.FinalNorm, c.NormEps),
            new DenseProjection(parameters.Head, version), parameters.Tensors, version, pool) { FullParameters = parameters };
    }

    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; }
    /// <summary>Every tensor that trains, in a fixed order (the optimizer's and the checkpoints').</summary>
    public IReadOnlyList<ParameterTensor> Parameters { get; }
    /// <summary>The whole model's parameters when it trains in full, else null.</summary>
    public ModelParameters? FullParameters { get; private init; }
    /// <summary>Bumped whenever trainable values change, so cached transposes are rebuilt.</summary>
    public ParameterVersion Version { get; }
    /// <summary>Threads.</summary>
    public ComputePool Pool { get; }
    /// <summary>Keep only each block's input and recompute its activations during the backward pass.</summary>
    public bool GradientCheckpointing { get; set; }
    /// <summary>Seeds the dropout masks of the next <see cref="ForwardBackward"/> (0 = no dropout); set once per micro-batch.</summary>
    public ulong DropoutKey { get; set; }

    /// <summary>Number of trainable values.</summary>
    public long TrainableCount => Parameters.Sum(p => (long)p.Length);

    /// <summary>Call after changing trainable values from outside (optimizer step, loading).</summary>
    public void ParametersChanged() => Version.Bump();

    /// <summary>Zeroes the accumulated gradients.</summary>
    public void ZeroGradients()
    {
        foreach (var p in Parameters) Array.Clear(p.Gradient!);
    }

    /// <summary>
    /// Forward and backward over <paramref name="inputs"/> (batch, sequence), predicting <paramref name="targets"/>
    /// (negative = no target). Adds ∂(mean loss)/∂θ · <paramref name="lossScale"/> to the gradients.
    /// <paramref name="documentStarts"/> gives, per token, the index in its sequence where its document starts
    /// (empty: one document per sequence); <paramref name="lossMask"/>, when given, keeps a target only where it is
    /// true (a prompt's or a user turn's tokens are seen but not learned). <paramref name="cancellation"/> is checked
    /// before each block's forward, each half of its backward and each chunk of the head, so a pass over a 7B model stops
    /// within seconds; it then throws <see cref="OperationCanceledException"/> with the gradients partly accumulated (the
    /// caller discards the update: <see cref="Trainer"/> saves the state before it).
    /// </summary>
    public BatchLoss ForwardBackward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batch, int sequence, float zLoss, float lossScale = 1f,
        ReadOnlySpan<int> documentStarts = default, ReadOnlySpan<bool> lossMask = default, CancellationToken cancellation = default)
    {
        _pass.DropoutKey = DropoutKey;
        var a = Forward(inputs, batch, sequence, documentStarts, cancellation);
        int n = batch * sequence, counted = MaskTargets(a, targets, lossMask, n);
        float scale = counted == 0 ? 0f : lossScale / counted;
        HeadForwardBackward(a, a.Targets, n, zLoss, scale, backward: true, cancellation);
        Backward(a, inputs, cancellation);
        return Summarize(a, n, counted, zLoss);
    }

    /// <summary>The loss of <paramref name="inputs"/> without touching gradients (validation); no dropout. Cancellation as in <see cref="ForwardBackward"/>.</summary>
    public BatchLoss Evaluate(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batch, int sequence, float zLoss,
        ReadOnlySpan<int> documentStarts = default, ReadOnlySpan<bool> lossMask = default, CancellationToken cancellation = default)
    {
        _pass.DropoutKey = 0;
        var a = Forward(inputs, batch, sequence, documentStarts, cancellation);
        int n = batch * sequence, counted = MaskTargets(a, targets, lossMask, n);
        HeadForwardBackward(a, a.Targets, n, zLoss, 0f, backward: false, cancellation);
        return Summarize(a, n, counted, zLoss);
    }

    /// <summary>Logits of every position of one sequence (no dropout). (tokens, vocab)</summary>
    public void Logits(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int n = tokens.Length, d = Config.Dim, v = Config.VocabularySize;
        if (logits.Length < (long)n * v) throw new ArgumentException($"logits must hold {n} × {v} values");
        _pass.DropoutKey = 0;
        var a = Forward(tokens, 1, n, default, default);
        _head.Forward(a.FinalNormed.AsSpan(0, n * d), n, logits, _pass);
    }

    /// <summary>The targets that count (negative where there is none or the mask drops it) into a.Targets; returns how many.</summary>
    private static int MaskTargets(TrainingActivations a, ReadOnlySpan<int> targets, ReadOnlySpan<bool> lossMask, int n)
    {
        if (targets.Length < n) throw new ArgumentException($"targets hold {targets.Length} values, fewer than the {n} tokens");
        if (!lossMask.IsEmpty && lossMask.Length < n) throw new ArgumentException($"the loss mask holds {lossMask.Length} values, fewer than the {n} tokens");
        int count = 0;
        for (int t = 0; t < n; t++)
        {
            int target = lossMask.IsEmpty || lossMask[t] ? targets[t] : -1;
            a.Targets[t] = target;
            if (target >= 0) count++;
        }
        return count;
    }

    private static BatchLoss Summarize(TrainingActivations a, int n, int counted, float zLoss)
    {
        double ce = 0, z = 0;
        for (int t = 0; t < n; t++) { ce += a.CrossEntropy[t]; z += a.ZSquared[t]; }
        return counted == 0 ? new BatchLoss(0, 0, 0) : new BatchLoss(ce / counted, zLoss * z / counted, counted);
    }

    /// <summary>Logits, loss and (optionally) the head's backward, a chunk of rows at a time so (N, vocab) never exists.</summary>
    private void HeadForwardBackward(TrainingActivations a, ReadOnlySpan<int> targets, int n, float zLoss, float scale, bool backward, CancellationToken cancellation)
    {
        int d = Config.Dim, v = Config.VocabularySize;
        for (int start = 0; start < n; start += HeadChunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(HeadChunk, n - start);
            var x = a.FinalNormed.AsSpan(start * d, rows * d);
            var logits = a.Logits.AsSpan(0, rows * v);
            _head.Forward(x, rows, logits, _pass);
            CrossEntropyKernel.ForwardBackward(logits, targets.Slice(start, rows), rows, v, zLoss, scale,
                a.CrossEntropy.AsSpan(start, rows), a.ZSquared.AsSpan(start, rows), Pool);
            if (backward) _head.Backward(logits, x, rows, a.GradientNormed.AsSpan(start * d, rows * d), false, _pass);
        }
    }
}
