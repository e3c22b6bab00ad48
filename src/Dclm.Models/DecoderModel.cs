using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Models;

/// <summary>
/// A decoder-only transformer (open_lm/DCLM or Llama, as the config says) that runs forward steps over
/// batches of tokens from one or more sequences, reading and extending a <see cref="KvCache"/>.
/// </summary>
public sealed class DecoderModel : IDisposable
{
    private readonly RunState _state = new();
    private readonly float[][] _inverseFrequencies;
    // The frequencies every layer shares (the usual case), so angles are computed once per token and step.
    private readonly float[]? _sharedFrequencies;
    // Per layer, Q|K|V and gate|up as single products where their weights lie back to back: one pass over
    // the input and one fork/join instead of three and two. Each row's arithmetic is unchanged.
    private readonly WeightMatrix?[] _queryKeyValue, _gateUp;
    private readonly CausalAttention _attention;
    private readonly float[] _cos, _sin;
    private readonly object _gate = new();

    public DecoderModel(ModelConfig config, ModelWeights weights, ComputePool? pool = null)
    {
        Config = config.Validate();
        weights.Validate(config);
        Weights = weights;
        Pool = pool ?? ComputePool.Shared;
        var derived = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        _inverseFrequencies = weights.Layers.Select(l => l.RopeInverseFrequency ?? derived).ToArray();
        _queryKeyValue = weights.Layers.Select(l => WeightMatrix.Adjacent(l.Query, l.Key, l.Value)).ToArray();
        _gateUp = weights.Layers.Select(l => WeightMatrix.Adjacent(l.Gate, l.Up)).ToArray();
        _sharedFrequencies = _inverseFrequencies.All(f => f.AsSpan().SequenceEqual(_inverseFrequencies[0])) ? _inverseFrequencies[0] : null;
        _attention = new CausalAttention(config, config.Positions == PositionEncoding.Alibi ? AlibiSlopes.For(config.Heads) : null);
        _cos = new float[config.HeadDim / 2];
        _sin = new float[config.HeadDim / 2];
    }

    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; }
    /// <summary>Weights (views into their files).</summary>
    public ModelWeights Weights { get; }
    /// <summary>Threads the matrix products run on.</summary>
    public ComputePool Pool { get; }

    /// <summary>A KV cache sized for this model.</summary>
    public KvCache CreateCache(int slots = 1, int? capacity = null, KvCacheType type = KvCacheType.F32)
    {
        int positions = capacity ?? Config.ContextLength;
        int blockSize = KvCache.DefaultBlockSize;
        return new KvCache(Config, slots, positions, blockSize, slots * ((positions + blockSize - 1) / blockSize), type);
    }

    /// <summary>
    /// Runs every token of <paramref name="batch"/> through the model, appends their keys and values to
    /// <paramref name="cache"/>, and writes the logits of the rows named by <see cref="ForwardBatch.LogitRows"/>
    /// into <paramref name="logits"/>. (rows, vocab)
    /// Calls are serialised: one forward step at a time per model.
    /// </summary>
    public void Forward(ForwardBatch batch, KvCache cache, Span<float> logits)
    {
        lock (_gate)
        {
            ValidateBatch(batch, cache, logits.Length);
            // Take or unshare every block the batch writes before any tensor work, so a full cache
            // fails the step cleanly instead of half-way through.
            for (int t = 0; t < batch.Count; t++) cache.PrepareWrite(batch.Slots[t], batch.Positions[t]);
            ForwardLocked(batch, cache, logits);
        }
    }

    private void ForwardLocked(ForwardBatch batch, KvCache cache, Span<float> logits)
    {
        var c = Config;
        int n = batch.Count, d = c.Dim, kv = c.KeyValueDim, hidden = c.HiddenDim;
        if (n == 0) return;
        var s = _state;
        s.Ensure(c, n);

        for (int t = 0; t < n; t++) Dequantize.Row(Weights.TokenEmbedding, batch.Tokens[t], s.Residual.AsSpan(t * d, d));
        int half = c.HeadDim / 2;
        bool rotary = c.Positions == PositionEncoding.Rotary;
        if (rotary && _sharedFrequencies != null)
            for (int t = 0; t < n; t++)
                RotaryEmbedding.Angles(batch.Positions[t], _sharedFrequencies, s.Cos.AsSpan(t * half, half), s.Sin.AsSpan(t * half, half));

        for (int layer = 0; layer < c.Layers; layer++)
        {
            var w = Weights.Layers[layer];

            // Attention block: x += Wo · attention(rope(norm_q(Wq·n(x))), rope(norm_k(Wk·n(x))), Wv·n(x))
            NormRows(s.Residual, w.AttentionNorm, n, d, s.Normed);
            if (_queryKeyValue[layer] is { } qkv)
            {
                MatMul.Multiply(s.Normed, n, qkv, s.Fused, Pool);
                Split(s.Fused, n, (s.Query, d), (s.Key, kv), (s.Value, kv));
            }
            else
            {
                MatMul.Multiply(s.Normed, n, w.Query, s.Query, Pool);
                MatMul.Multiply(s.Normed, n, w.Key, s.Key, Pool);
                MatMul.Multiply(s.Normed, n, w.Value, s.Value, Pool);
            }
            if (c.QkNorm)
            {
                // open_lm normalises Q and K over their full width before splitting heads.
                for (int t = 0; t < n; t++)
                {
                    LayerNorm.Apply(s.Query.AsSpan(t * d, d), w.QueryNorm, c.NormEps, s.Query.AsSpan(t * d, d));
                    LayerNorm.Apply(s.Key.AsSpan(t * kv, kv), w.KeyNorm, c.NormEps, s.Key.AsSpan(t * kv, kv));
                }
            }
            for (int t = 0; t < n; t++)
            {
                if (rotary)
                {
                    Span<float> cos = _cos, sin = _sin;
                    if (_sharedFrequencies != null)
                    {
                        cos = s.Cos.AsSpan(t * half, half);
                        sin = s.Sin.AsSpan(t * half, half);
                    }
                    else RotaryEmbedding.Angles(batch.Positions[t], _inverseFrequencies[layer], cos, sin);
                    RotaryEmbedding.Apply(s.Query.AsSpan(t * d, d), c.HeadDim, cos, sin, c.RopeStyle);
                    RotaryEmbedding.Apply(s.Key.AsSpan(t * kv, kv), c.HeadDim, cos, sin, c.RopeStyle);
                }
                cache.Store(layer, batch.Slots[t], batch.Positions[t], s.Key.AsSpan(t * kv, kv), s.Value.AsSpan(t * kv, kv));
            }
            _attention.Run(Pool, cache, layer, batch, s.Query, s.Attention);
            MatMul.Multiply(s.Attention, n, w.Output, s.BlockOutput, Pool);
            AddInPlace(s.Residual, s.BlockOutput, n * d);

            // Feed-forward block: x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
            NormRows(s.Residual, w.FeedForwardNorm, n, d, s.Normed);
            if (_gateUp[layer] is { } gateUp)
            {
                MatMul.Multiply(s.Normed, n, gateUp, s.Fused, Pool);
                Split(s.Fused, n, (s.Gate, hidden), (s.Up, hidden));
            }
            else
            {
                MatMul.Multiply(s.Normed, n, w.Gate, s.Gate, Pool);
                MatMul.Multiply(s.Normed, n, w.Up, s.Up, Pool);
            }
            for (int t = 0; t < n; t++)
                SwiGlu.Apply(s.Gate.AsSpan(t * hidden, hidden), s.Up.AsSpan(t * hidden, hidden), s.Gate.AsSpan(t * hidden, hidden));
            MatMul.Multiply(s.Gate, n, w.Down, s.BlockOutput, Pool);
            AddInPlace(s.Residual, s.BlockOutput, n * d);
        }
        for (int t = 0; t < n; t++) cache.MarkWritten(batch.Slots[t], batch.Positions[t]);

        // Only the rows that want logits go through the final norm and the (large) output head.
        int rows = batch.LogitRows.Length;
        for (int r = 0; r < rows; r++)
        {
            int t = batch.LogitRows[r];
            Norm(s.Residual.AsSpan(t * d, d), Weights.FinalNorm, s.Normed.AsSpan(r * d, d));
        }
        MatMul.Multiply(s.Normed, rows, Weights.Output, logits, Pool);
    }

    /// <summary>Copies each token's row of a fused product, [part 0 | part 1 | ...], into the parts' own (tokens, width) buffers.</summary>
    private static void Split(float[] fused, int n, params ReadOnlySpan<(float[] Destination, int Width)> parts)
    {
        int total = 0;
        foreach (var part in parts) total += part.Width;
        for (int t = 0; t < n; t++)
        {
            int offset = t * total;
            foreach (var (destination, width) in parts)
            {
                fused.AsSpan(offset, width).CopyTo(destination.AsSpan(t * width, width));
                offset += width;
            }
        }
    }

    private void NormRows(float[] x, float[] gain, int n, int d, float[] destination)
    {
        for (int t = 0; t < n; t++) Norm(x.AsSpan(t * d, d), gain, destination.AsSpan(t * d, d));
    }

    private void Norm(ReadOnlySpan<float> x, ReadOnlySpan<float> gain, Span<float> destination)
    {
        if (Config.Norm == NormKind.LayerNorm) LayerNorm.Apply(x, gain, Config.NormEps, destination);
        else RmsNorm.Apply(x, gain, Config.NormEps, destination);
    }

    private static void AddInPlace(float[] target, float[] addend, int count) =>
        System.Numerics.Tensors.TensorPrimitives.Add(target.AsSpan(0, count), addend.AsSpan(0, count), target.AsSpan(0, count));

    private void ValidateBatch(ForwardBatch batch, KvCache cache, int logitsLength)
    {
        int n = batch.Count;
        if (batch.Positions.Length != n || batch.Slots.Length != n)
            throw new ArgumentException($"batch has {n} tokens but {batch.Positions.Length} positions and {batch.Slots.Length} slots");
        if (cache.KeyValueDim != Config.KeyValueDim) throw new ArgumentException("the KV cache was made for another model");
        // Each token must land at or before its slot's current end, so sequences never have gaps.
        var lengths = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            int token = batch.Tokens[i], slot = batch.Slots[i], position = batch.Positions[i];
            if ((uint)token >= (uint)Config.VocabularySize) throw new ArgumentOutOfRangeException(nameof(batch), $"token id {token} is outside the vocabulary of {Config.VocabularySize}");
            if ((uint)slot >= (uint)cache.Slots) throw new ArgumentOutOfRangeException(nameof(batch), $"slot {slot} is outside the cache's {cache.Slots} slots");
            if ((uint)position >= (uint)cache.Capacity) throw new ArgumentOutOfRangeException(nameof(batch), $"position {position} is beyond the cache capacity of {cache.Capacity}");
            int length = lengths.TryGetValue(slot, out int l) ? l : cache.Length(slot);
            // Strict append: a caller that rewinds a sequence calls KvCache.Truncate first, so no stale
            // positions ever sit behind a rewritten one.
            if (position != length) throw new ArgumentException($"token {i} is at position {position} but slot {slot} holds {length} positions; tokens must extend their sequence in order");
            lengths[slot] = Math.Max(length, position + 1);
        }
        int blocks = 0;
        foreach (var (slot, length) in lengths) blocks += cache.BlocksNeeded(slot, length);
        if (blocks > cache.FreeBlocks)
            throw new InvalidOperationException($"the KV cache is full: this step needs {blocks} more blocks of {cache.BlockSize} positions and {cache.FreeBlocks} are free");
        foreach (int row in batch.LogitRows)
            if ((uint)row >= (uint)n) throw new ArgumentOutOfRangeException(nameof(batch), $"logit row {row} is outside the batch of {n}");
        if (logitsLength < (long)batch.LogitRows.Length * Config.VocabularySize)
            throw new ArgumentException($"logits buffer holds {logitsLength} values, {batch.LogitRows.Length} rows need {(long)batch.LogitRows.Length * Config.VocabularySize}");
    }

    public void Dispose() => Weights.Dispose();
}
