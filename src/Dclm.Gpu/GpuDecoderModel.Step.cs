using Dclm.Gpu.Kernels;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

public sealed partial class GpuDecoderModel
{
    /// <summary>
    /// Uploads what the step's kernels read: x = embedding(tokens), positions, RoPE angles, each token's cache row and
    /// its sequence's block table (entry j = the block holding positions [j·B, (j + 1)·B)).
    /// </summary>
    private void Stage(ForwardBatch batch, KvCache cache)
    {
        int n = batch.Count, d = Config.Dim, half = Config.HeadDim / 2, block = cache.BlockSize;
        int width = (cache.Capacity + block - 1) / block;
        Grow(ref _embedded, n * d);
        Grow(ref _positions, n);
        Grow(ref _cacheRows, n);
        Grow(ref _tokenTables, n);
        if (_slotRows.Length < cache.Slots) _slotRows = new int[cache.Slots];
        Array.Fill(_slotRows, -1, 0, cache.Slots);
        int sequences = 0;
        for (int t = 0; t < n; t++)
            if (_slotRows[batch.Slots[t]] < 0) _slotRows[batch.Slots[t]] = sequences++;
        Grow(ref _tables, sequences * width);
        for (int s = 0; s < cache.Slots; s++)
        {
            if (_slotRows[s] < 0) continue;
            var held = cache.BlockTable(s);
            int from = cache.HeldFrom(s) / block;
            held.CopyTo(_tables.AsSpan(_slotRows[s] * width + from, held.Length));
        }
        for (int t = 0; t < n; t++)
        {
            int slot = batch.Slots[t], position = batch.Positions[t];
            Dequantize.Row(_weights.TokenEmbedding, batch.Tokens[t], _embedded.AsSpan(t * d, d));
            _positions[t] = position;
            _tokenTables[t] = _slotRows[slot];
            _cacheRows[t] = _tables[_slotRows[slot] * width + position / block] * block + position % block;
        }
        _state.Residual.Upload(_embedded.AsSpan(0, n * d));
        _state.Positions.Upload(_positions.AsSpan(0, n));
        _state.CacheRows.Upload(_cacheRows.AsSpan(0, n));
        _state.TokenTables.Upload(_tokenTables.AsSpan(0, n));
        _tableLength = sequences * width;
        _state.Tables.Upload(_tables.AsSpan(0, _tableLength));
        _tableWidth = width;
        PlanAttention(batch);
        if (!Config.UsesRotary) return;
        int sets = _sharedFrequencies ? 1 : Config.Layers;
        Grow(ref _cos, sets * n * half);
        Grow(ref _sin, sets * n * half);
        for (int l = 0; l < sets; l++)
            for (int t = 0; t < n; t++)
                RotaryEmbedding.Angles(batch.Positions[t], _inverseFrequencies[l], _cos.AsSpan((l * n + t) * half, half), _sin.AsSpan((l * n + t) * half, half));
        _state.Cos.Upload(_cos.AsSpan(0, sets * n * half));
        _state.Sin.Upload(_sin.AsSpan(0, sets * n * half));
    }

    private int _tableWidth, _tableLength;

    private static void Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length) array = new T[length];
    }

    /// <summary>x ← block_l(x) for every token: the math of the CPU engine's blocks, with each architecture's steps.</summary>
    private void RunLayer(int index, int n, DeviceKvCache cache, int blockSize)
    {
        var c = Config;
        var w = _layers[index];
        var k = _kernels;
        int d = c.Dim, qd = c.QueryDim, kvd = c.KeyValueDim, h = c.HiddenDim, stride = qd + 2 * kvd;
        var x = _state.Residual.Ensure((long)n * d);
        var normed = _state.Normed.Ensure((long)n * d);
        var qkv = _state.QueryKeyValue.Ensure((long)n * stride);

        // q|k|v = W_qkv·n(x) (+ b_qkv for Qwen2)
        Norm(x, d, 0, normed, d, 0, n, 1, d, w.AttentionNorm.View, c.Norm == NormKind.LayerNorm);
        Project([w.Query, w.Key, w.Value], normed, d, n, qkv, stride, [0, qd, qd + kvd], accumulate: false);
        _profile?.Mark("norm+qkv");
        if (w.QueryBias is not null)
        {
            k.AddBias(n * qd, qkv, stride, 0, qd, w.QueryBias.View);
            k.AddBias(n * kvd, qkv, stride, qd, kvd, w.KeyBias!.View);
            k.AddBias(n * kvd, qkv, stride, qd + kvd, kvd, w.ValueBias!.View);
        }
        // q ← n_q(q), k ← n_k(k): over the full width (open_lm, the model's norm) or over each head (Qwen3, RMS)
        if (c.QueryKeyNorm == QueryKeyNorm.FullWidth)
        {
            Norm(qkv, stride, 0, qkv, stride, 0, n, 1, qd, w.QueryNorm!.View, c.Norm == NormKind.LayerNorm);
            Norm(qkv, stride, qd, qkv, stride, qd, n, 1, kvd, w.KeyNorm!.View, c.Norm == NormKind.LayerNorm);
        }
        else if (c.QueryKeyNorm == QueryKeyNorm.PerHead)
        {
            Norm(qkv, stride, 0, qkv, stride, 0, n, c.Heads, c.HeadDim, w.QueryNorm!.View, layerNorm: false);
            Norm(qkv, stride, qd, qkv, stride, qd, n, c.KeyValueHeads, c.HeadDim, w.KeyNorm!.View, layerNorm: false);
        }
        if (c.UsesRotary)
        {
            int half = c.HeadDim / 2;
            long set = _sharedFrequencies ? 0 : (long)index * n * half;
            var shape = new RopeShape { Stride = stride, Heads = c.Heads, KeyValueHeads = c.KeyValueHeads, HeadDim = c.HeadDim, QueryDim = qd,
                AdjacentPairs = c.RopeStyle == RopeStyle.AdjacentPairs ? 1 : 0 };
            k.Rope(n * (c.Heads + c.KeyValueHeads) * half, qkv, _state.Cos.Ensure(set + n * half).SubView(set, n * half),
                _state.Sin.Ensure(set + n * half).SubView(set, n * half), shape);
        }
        k.StoreKeyValue(n * kvd, qkv, stride, qd, kvd, _state.CacheRows.Ensure(n), cache.Keys(index), cache.Values(index));
        _profile?.Mark("qknorm+rope+kv");

        // x += Wo · attention(q, k, v)
        var attention = _state.Attention.Ensure((long)n * qd);
        var attentionShape = new AttentionShape { Stride = stride, Heads = c.Heads, KeyValueHeads = c.KeyValueHeads, HeadDim = c.HeadDim,
            KeyValueDim = kvd, BlockSize = blockSize, TableWidth = _tableWidth, Window = c.SlidingWindow, Alibi = c.UsesAlibi ? 1 : 0,
            Scale = 1f / MathF.Sqrt(c.HeadDim), SplitLength = AttentionSplitLength, Splits = _attentionSplits };
        Attend(index, n, cache, qkv, attentionShape, attention);
        _profile?.Mark("attention");
        Project([w.Output], attention, qd, n, x, d, [0], accumulate: true);
        _profile?.Mark("out");

        // x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
        var gateUp = _state.GateUp.Ensure((long)n * 2 * h);
        var hidden = _state.Hidden.Ensure((long)n * h);
        Norm(x, d, 0, normed, d, 0, n, 1, d, w.FeedForwardNorm.View, c.Norm == NormKind.LayerNorm);
        Project([w.Gate, w.Up], normed, d, n, gateUp, 2 * h, [0, h], accumulate: false);
        _profile?.Mark("norm+gate/up");
        k.SwiGlu(n * h, gateUp, h, hidden);
        _profile?.Mark("swiglu");
        Project([w.Down], hidden, h, n, x, d, [0], accumulate: true);
        _profile?.Mark("down");
    }

    /// <summary>
    /// Runs matrices that share an input (tokens, width) into columns at <paramref name="offsets"/> of rows of
    /// <paramref name="stride"/>; quantized ones read the input quantized to Q8_0, computed once.
    /// </summary>
    private void Project(DeviceMatrix[] matrices, ArrayView<float> input, int width, int n, ArrayView<float> output, int stride, int[] offsets, bool accumulate)
    {
        ArrayView<int> levels = default;
        ArrayView<float> scales = default;
        bool quantized = false;
        for (int i = 0; i < matrices.Length; i++)
        {
            var m = matrices[i];
            if (!m.WantsQ8Input)
            {
                m.Apply(_kernels, input, n, output, stride, offsets[i], accumulate);
                continue;
            }
            if (!quantized)
            {
                levels = _state.Q8Levels.Ensure((long)n * width / 4);
                scales = _state.Q8Scales.Ensure((long)n * width / 32);
                _kernels.QuantizeToQ8(n * width / 32, input, levels, scales);
                quantized = true;
            }
            m.ApplyQuantized(_kernels, levels, scales, n, output, stride, offsets[i], accumulate);
        }
    }

    /// <summary>Segments of <paramref name="width"/> values, <paramref name="pieces"/> per row, normalised with <paramref name="gain"/>.</summary>
    private void Norm(ArrayView<float> x, int xStride, int xOffset, ArrayView<float> y, int yStride, int yOffset, int rows, int pieces, int width,
        ArrayView<float> gain, bool layerNorm)
    {
        var shape = new NormShape { InputStride = xStride, InputOffset = xOffset, OutputStride = yStride, OutputOffset = yOffset, Pieces = pieces,
            Width = width, LayerNorm = layerNorm ? 1 : 0, Epsilon = Config.NormEps };
        _kernels.Norm(new KernelConfig(rows * pieces, _kernels.NormThreads), x, y, gain, shape);
    }

    /// <summary>logits = W_out·n(x) for the logit rows, copied back once.</summary>
    private void RunHead(ForwardBatch batch, int rows, Span<float> logits)
    {
        int d = Config.Dim, vocabulary = Config.VocabularySize;
        var rowIndices = _state.LogitRows.Upload(batch.LogitRows.AsSpan(0, rows));
        var gathered = _state.Final.Ensure((long)rows * d);
        _kernels.GatherRows(rows * d, _state.Residual.Ensure((long)batch.Count * d), rowIndices, d, gathered);
        Norm(gathered, d, 0, gathered, d, 0, rows, 1, d, _finalNorm.View, Config.Norm == NormKind.LayerNorm);
        var output = _state.Logits.Ensure((long)rows * vocabulary);
        Project([_head], gathered, d, rows, output, vocabulary, [0], accumulate: false);
        output.SubView(0, (long)rows * vocabulary).AsContiguous().CopyToCPU(logits[..(rows * vocabulary)]);
    }
}
