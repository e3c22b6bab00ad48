using Dclm.Gpu.Kernels;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

public sealed partial class GpuDecoderModel
{
    /// <summary>
    /// Uploads what the step's kernels read, packed into one int and one float upload from page-locked memory (queued on the
    /// stream, no wait): x = embedding(tokens), positions, RoPE angles, each token's cache row, its sequence's block table
    /// (entry j = the block holding positions [j·B, (j + 1)·B)) and the logit rows.
    /// </summary>
    private void Stage(ForwardBatch batch, KvCache cache)
    {
        // The previous step's uploads may still be reading the host arrays when it returned no logits (no wait at its end).
        if (_uploadsInFlight) _device.Accelerator.DefaultStream.Synchronize();
        int n = batch.Count, d = Config.Dim, half = Config.HeadDim / 2, block = cache.BlockSize, rows = batch.LogitRowCount;
        int width = (cache.Capacity + block - 1) / block;
        if (_slotRows.Length < cache.Slots) _slotRows = new int[cache.Slots];
        Array.Fill(_slotRows, -1, 0, cache.Slots);
        int sequences = 0;
        for (int t = 0; t < n; t++)
            if (_slotRows[batch.Slots[t]] < 0) _slotRows[batch.Slots[t]] = sequences++;
        int sets = !Config.UsesRotary ? 0 : _sharedFrequencies ? 1 : Config.Layers;
        var ints = _state.StagedInts;
        var floats = _state.StagedFloats;
        ints.Begin(5L * n + (long)sequences * width + rows + 6 + StagedAdapterInts(n));
        floats.Begin((long)n * d + 2L * sets * n * half + 3);
        var positions = ints.Reserve(n, out long positionsAt);
        var cacheRows = ints.Reserve(n, out long cacheRowsAt);
        var tokenTables = ints.Reserve(n, out long tokenTablesAt);
        var tables = ints.Reserve(sequences * width, out long tablesAt);
        var logitRows = ints.Reserve(rows, out long logitRowsAt);
        PlanAttention(batch, ints.Reserve(2 * n, out long tilesAt));
        var embedded = floats.Reserve(n * d, out long embeddedAt);
        var cos = floats.Reserve(sets * n * half, out long cosAt);
        var sin = floats.Reserve(sets * n * half, out long sinAt);
        for (int s = 0; s < cache.Slots; s++)
        {
            if (_slotRows[s] < 0) continue;
            var held = cache.BlockTable(s);
            int from = cache.HeldFrom(s) / block;
            held.CopyTo(tables.Slice(_slotRows[s] * width + from, held.Length));
        }
        for (int t = 0; t < n; t++)
        {
            int slot = batch.Slots[t], position = batch.Positions[t];
            Dequantize.Row(_weights.TokenEmbedding, batch.Tokens[t], embedded.Slice(t * d, d));
            positions[t] = position;
            tokenTables[t] = _slotRows[slot];
            cacheRows[t] = tables[_slotRows[slot] * width + position / block] * block + position % block;
        }
        batch.LogitRows.AsSpan(0, rows).CopyTo(logitRows);
        for (int l = 0; l < sets; l++)
            for (int t = 0; t < n; t++)
                RotaryEmbedding.Angles(batch.Positions[t], _inverseFrequencies[l], cos.Slice((l * n + t) * half, half), sin.Slice((l * n + t) * half, half));
        StageAdapters(batch, ints);
        ints.Upload();
        floats.Upload();
        _kernels.Counter.CountTransfer();
        _kernels.Counter.CountTransfer();
        _uploadsInFlight = true;
        _state.Positions.Set(ints.View(positionsAt, n));
        _state.CacheRows.Set(ints.View(cacheRowsAt, n));
        _state.TokenTables.Set(ints.View(tokenTablesAt, n));
        _state.Tables.Set(ints.View(tablesAt, sequences * width));
        _state.LogitRows.Set(ints.View(logitRowsAt, rows));
        _state.Residual.Set(floats.View(embeddedAt, (long)n * d));
        _state.Cos.Set(floats.View(cosAt, (long)sets * n * half));
        _state.Sin.Set(floats.View(sinAt, (long)sets * n * half));
        _tableLength = sequences * width;
        _tableWidth = width;
        _state.AttentionTiles.Set(ints.View(tilesAt, 2L * _attentionTiles));
    }

    private int _tableWidth, _tableLength;
    // Whether the step's uploads were queued and not yet waited for (a step that returns logits waits at its end).
    private bool _uploadsInFlight;

    /// <summary>x ← block_l(x) for every token: the math of the CPU engine's blocks, with each architecture's steps.</summary>
    private void RunLayer(int index, int n, DeviceKvCache cache, int blockSize)
    {
        var c = Config;
        var w = _layers[index];
        int d = c.Dim, qd = c.QueryDim, kvd = c.KeyValueDim, h = c.HiddenDim, stride = qd + 2 * kvd;
        var x = _state.Residual.Ensure((long)n * d);
        var normed = _state.Normed.Ensure((long)n * d);
        var qkv = _state.QueryKeyValue.Ensure((long)n * stride);

        // q|k|v = W_qkv·n(x) (+ b_qkv for Qwen2), then q ← rope(n_q(q)), k ← rope(n_k(k)), k and v into the cache
        var input = NormRows(x, default, n, w.AttentionNorm.View, normed, w.Query.WantsQ8Input || w.Key.WantsQ8Input || w.Value.WantsQ8Input);
        Project([w.Query, w.Key, w.Value], input, d, n, qkv, stride, [0, qd, qd + kvd], accumulate: false);
        AddAdapters(index, LayerProduct.QueryKeyValue, input.Values, d, n, qkv, stride);
        _profile?.Mark("norm+qkv");
        PrepareQueryKeyValue(index, n, qkv, cache);
        _profile?.Mark("qknorm+rope+kv");

        // x += Wo · attention(q, k, v)
        var attention = _state.Attention.Ensure((long)n * qd);
        var attentionShape = new AttentionShape { Stride = stride, Heads = c.Heads, KeyValueHeads = c.KeyValueHeads, HeadDim = c.HeadDim,
            KeyValueDim = kvd, BlockSize = blockSize, TableWidth = _tableWidth, Window = c.SlidingWindow, Alibi = c.UsesAlibi ? 1 : 0,
            Scale = 1f / MathF.Sqrt(c.HeadDim), SplitLength = AttentionSplitLength, Splits = _attentionSplits };
        Attend(index, n, cache, qkv, attentionShape, attention);
        _profile?.Mark("attention");
        ProjectIntoResidual(index, LayerProduct.Output, w.Output, ProjectionInput.Floats(attention), qd, n, x);
        _profile?.Mark("out");

        // x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
        var gateUp = _state.GateUp.Ensure((long)n * 2 * h);
        var hidden = _state.Hidden.Ensure((long)n * h);
        input = NormRows(x, default, n, w.FeedForwardNorm.View, normed, w.Gate.WantsQ8Input || w.Up.WantsQ8Input);
        Project([w.Gate, w.Up], input, d, n, gateUp, 2 * h, [0, h], accumulate: false);
        AddAdapters(index, LayerProduct.GateUp, input.Values, d, n, gateUp, 2 * h);
        _profile?.Mark("norm+gate/up");
        input = SwiGlu(n, gateUp, hidden, w.Down.WantsQ8Input);
        _profile?.Mark("swiglu");
        ProjectIntoResidual(index, LayerProduct.Down, w.Down, input, h, n, x);
        _profile?.Mark("down");
    }

    /// <summary>
    /// Runs matrices that share an input (tokens, width) into columns at <paramref name="offsets"/> of rows of
    /// <paramref name="stride"/>; quantized ones read the input quantized to Q8_0, computed once (or already by the kernel
    /// that wrote it).
    /// </summary>
    private void Project(DeviceMatrix[] matrices, ProjectionInput input, int width, int n, ArrayView<float> output, int stride, int[] offsets, bool accumulate)
    {
        for (int i = 0; i < matrices.Length; i++)
        {
            var m = matrices[i];
            if (!m.WantsQ8Input)
            {
                m.Apply(_kernels, input.Values, n, output, stride, offsets[i], accumulate);
                continue;
            }
            if (!input.Quantized)
            {
                var levels = _state.Q8Levels.Ensure((long)n * width / 4);
                var scales = _state.Q8Scales.Ensure((long)n * width / 32);
                _kernels.QuantizeToQ8(n * width / 32, input.Values, levels, scales);
                input = new ProjectionInput(input.Values, levels, scales, Quantized: true);
            }
            m.ApplyQuantized(_kernels, input.Levels, input.Scales, n, output, stride, offsets[i], accumulate);
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

    /// <summary>logits = W_out·n(x) for the logit rows, copied back once through page-locked memory.</summary>
    private void RunHead(ForwardBatch batch, int rows, Span<float> logits)
    {
        int d = Config.Dim, vocabulary = Config.VocabularySize, length = rows * vocabulary;
        var gathered = _state.Final.Ensure((long)rows * d);
        var input = NormRows(_state.Residual.Ensure((long)batch.Count * d), _state.LogitRows.Ensure(rows), rows, _finalNorm.View, gathered, _head.WantsQ8Input);
        var output = _state.Logits.Ensure((long)rows * vocabulary);
        Project([_head], input, d, rows, output, vocabulary, [0], accumulate: false);
        var host = _state.HostLogits.Ensure(length);
        output.SubView(0, length).AsContiguous().CopyTo(_device.Accelerator.DefaultStream, host.ArrayView.SubView(0, length));
        _kernels.Counter.CountTransfer();
        _device.Accelerator.DefaultStream.Synchronize();
        _uploadsInFlight = false;
        host.Span[..length].CopyTo(logits);
    }
}
