using System.Numerics.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Models;

public sealed partial class DecoderModel
{
    /// <summary>The buffers one thread needs to run the layer stack over a batch.</summary>
    private sealed class Lane(ModelConfig config, float[]? alibiSlopes)
    {
        public RunState State { get; } = new();
        public CausalAttention Attention { get; } = new(config, alibiSlopes);
    }

    /// <summary>Runs group i of a split batch through the layers on thread i, each product on that thread alone.</summary>
    private sealed class SequenceGroupsJob(DecoderModel model) : ComputeJob
    {
        private SequenceGroups? _groups;
        private KvCache? _cache;

        public void Start(SequenceGroups groups, KvCache cache) => (_groups, _cache) = (groups, cache);

        public void Finish() => (_groups, _cache) = (null, null);

        public override void Execute(int thread, int threads)
        {
            var batch = _groups!.Batches[thread];
            var lane = model._lanes[thread];
            lane.State.Ensure(model.Config, batch.Count);
            model.RunLayers(batch, _cache!, lane, model._inline);
        }
    }

    /// <summary>
    /// Embeds the batch's tokens into <paramref name="lane"/>'s residual stream and runs them through every
    /// layer, storing their keys and values in <paramref name="cache"/>; products split over <paramref name="pool"/>.
    /// </summary>
    private void RunLayers(ForwardBatch batch, KvCache cache, Lane lane, ComputePool pool)
    {
        var c = Config;
        int n = batch.Count, d = c.Dim, qd = c.QueryDim, kv = c.KeyValueDim, hidden = c.HiddenDim;
        var s = lane.State;
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
            // Fused Q|K|V rows are used where they lie: K and V are normalised, rotated and stored from
            // the fused buffer, and Q lands in its own (tokens, heads·headDim) buffer, which attention reads.
            var qkv = _queryKeyValue[layer];
            int fusedWidth = qd + 2 * kv;
            if (qkv is { } fused) MatMul.Multiply(s.Normed, n, fused, s.Fused, pool);
            else
            {
                MatMul.Multiply(s.Normed, n, w.Query, s.Query, pool);
                MatMul.Multiply(s.Normed, n, w.Key, s.Key, pool);
                MatMul.Multiply(s.Normed, n, w.Value, s.Value, pool);
            }
            for (int t = 0; t < n; t++)
            {
                var query = s.Query.AsSpan(t * qd, qd);
                var key = qkv is null ? s.Key.AsSpan(t * kv, kv) : s.Fused.AsSpan(t * fusedWidth + qd, kv);
                var value = qkv is null ? s.Value.AsSpan(t * kv, kv) : s.Fused.AsSpan(t * fusedWidth + qd + kv, kv);
                Span<float> rawQuery = qkv is null ? query : s.Fused.AsSpan(t * fusedWidth, qd);
                if (c.AttentionBias)
                {
                    // Qwen2: biases on the projections, before RoPE.
                    TensorPrimitives.Add(rawQuery, w.QueryBias!, rawQuery);
                    TensorPrimitives.Add(key, w.KeyBias!, key);
                    TensorPrimitives.Add(value, w.ValueBias!, value);
                }
                if (c.QkNorm)
                {
                    // open_lm normalises Q and K over their full width before splitting heads.
                    LayerNorm.Apply(rawQuery, w.QueryNorm, c.NormEps, query);
                    LayerNorm.Apply(key, w.KeyNorm, c.NormEps, key);
                }
                else if (c.HeadQkNorm)
                {
                    // Qwen3 normalises each head of Q and K (RMS, one gain of head width) before RoPE.
                    int hd = c.HeadDim;
                    for (int h = 0; h < c.Heads; h++) RmsNorm.Apply(rawQuery.Slice(h * hd, hd), w.QueryNorm, c.NormEps, query.Slice(h * hd, hd));
                    for (int h = 0; h < c.KeyValueHeads; h++) RmsNorm.Apply(key.Slice(h * hd, hd), w.KeyNorm, c.NormEps, key.Slice(h * hd, hd));
                }
                else if (qkv is not null) rawQuery.CopyTo(query);
                if (rotary)
                {
                    Span<float> cos = s.LayerCos, sin = s.LayerSin;
                    if (_sharedFrequencies != null)
                    {
                        cos = s.Cos.AsSpan(t * half, half);
                        sin = s.Sin.AsSpan(t * half, half);
                    }
                    else RotaryEmbedding.Angles(batch.Positions[t], _inverseFrequencies[layer], cos, sin);
                    RotaryEmbedding.Apply(query, c.HeadDim, cos, sin, c.RopeStyle);
                    RotaryEmbedding.Apply(key, c.HeadDim, cos, sin, c.RopeStyle);
                }
                cache.Store(layer, batch.Slots[t], batch.Positions[t], key, value);
            }
            lane.Attention.Run(pool, cache, layer, batch, s.Query, s.Attention);
            MatMul.Multiply(s.Attention, n, w.Output, s.BlockOutput, pool);
            AddInPlace(s.Residual, s.BlockOutput, n * d);

            // Feed-forward block: x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
            NormRows(s.Residual, w.FeedForwardNorm, n, d, s.Normed);
            if (_gateUp[layer] is { } gateUp)
            {
                // silu(gate) ⊙ up straight from each token's fused gate|up row into the down product's input.
                MatMul.Multiply(s.Normed, n, gateUp, s.Fused, pool);
                for (int t = 0; t < n; t++)
                    SwiGlu.Apply(s.Fused.AsSpan(2 * t * hidden, hidden), s.Fused.AsSpan((2 * t + 1) * hidden, hidden), s.Gate.AsSpan(t * hidden, hidden));
            }
            else
            {
                MatMul.Multiply(s.Normed, n, w.Gate, s.Gate, pool);
                MatMul.Multiply(s.Normed, n, w.Up, s.Up, pool);
                for (int t = 0; t < n; t++)
                    SwiGlu.Apply(s.Gate.AsSpan(t * hidden, hidden), s.Up.AsSpan(t * hidden, hidden), s.Gate.AsSpan(t * hidden, hidden));
            }
            MatMul.Multiply(s.Gate, n, w.Down, s.BlockOutput, pool);
            AddInPlace(s.Residual, s.BlockOutput, n * d);
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
}
