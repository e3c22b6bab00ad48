using Dclm.Tensors.Compute;

namespace Dclm.Models.Blocks;

/// <summary>
/// Scaled dot-product attention of each batch token over its own sequence's cached keys and values:
/// out_h = Σ_j softmax_j(q_h·k_j/√d + bias_hj) v_j over j in [first, position], where first is 0, or
/// position − window + 1 with a sliding window, and bias is ALiBi's −slope_h·(position − j) when enabled.
/// <para>
/// Flash-attention style: the batch's tokens are cut into tiles of up to <see cref="TileTokens"/> consecutive tokens of
/// one sequence, and each (tile, KV head) item attends the query heads that share that KV head at all of the tile's
/// positions together (<see cref="AttentionTile"/>), reading each cache block's keys and values once for all of them,
/// with an online softmax. A token's result does not depend on its tile, so prefill, batched decode and one-token
/// decode give the same bits. Items are claimed from a shared counter by the pool's threads.
/// </para>
/// </summary>
internal sealed class CausalAttention(ModelConfig config, float[]? alibiSlopes) : ComputeJob
{
    /// <summary>Query rows a tile aims for: sixteen keep a tile's queries, outputs and one chunk of keys and values in L1.</summary>
    private const int TileRows = 16;

    private readonly float _scale = 1f / MathF.Sqrt(config.HeadDim);
    // Query heads per KV head.
    private readonly int _group = config.Heads / config.KeyValueHeads;
    // Per thread: a tile of TileTokens·group rows.
    private AttentionTile[] _tiles = [];
    private KvCache? _cache;
    private ForwardBatch? _batch;
    // Queries, each token's (heads·headDim) row starting _queryStride after the previous; outputs (tokens, heads·headDim).
    private float[] _query = [], _destination = [];
    // The batch's token indices grouped by sequence (stable), and each tile's start in that order and token count. (tokens)
    private int[] _order = [], _tileStarts = [], _tileCounts = [], _slotCounts = [];
    private int _layer, _queryStride, _tileCount, _next;

    /// <summary>Consecutive tokens of one sequence per tile: enough for about <see cref="TileRows"/> rows, at least one.</summary>
    public int TileTokens => Math.Max(1, TileRows / _group);

    /// <summary>
    /// Attends every (token, head) of <paramref name="batch"/>: query rows are <paramref name="queryStride"/> apart, each
    /// starting with the token's (heads·headDim) query; <paramref name="destination"/> is (tokens, heads·headDim).
    /// </summary>
    public void Run(ComputePool pool, KvCache cache, int layer, ForwardBatch batch, float[] query, int queryStride, float[] destination)
    {
        if (_tiles.Length < pool.Threads)
            _tiles = Enumerable.Range(0, pool.Threads).Select(_ => new AttentionTile(TileTokens * _group, config.HeadDim)).ToArray();
        CutTiles(batch, cache.Slots);
        (_cache, _layer, _batch, _query, _queryStride, _destination, _next) = (cache, layer, batch, query, queryStride, destination, 0);
        pool.Run(this);
        (_cache, _batch) = (null, null);
    }

    public override void Execute(int thread, int threads)
    {
        // KV head major, so consecutive items read the same head's keys and values from a warm cache.
        int items = _tileCount * config.KeyValueHeads;
        var tile = _tiles[thread];
        for (int item = Interlocked.Increment(ref _next) - 1; item < items; item = Interlocked.Increment(ref _next) - 1)
            Attend(tile, item % _tileCount, item / _tileCount);
    }

    /// <summary>Groups the batch's tokens by slot (keeping their order) and cuts each sequence's run into tiles.</summary>
    private void CutTiles(ForwardBatch batch, int slots)
    {
        int n = batch.Count;
        if (_order.Length < n) (_order, _tileStarts, _tileCounts) = (new int[n], new int[n], new int[n]);
        if (_slotCounts.Length < slots + 1) _slotCounts = new int[slots + 1];
        var offsets = _slotCounts.AsSpan(0, slots + 1);
        offsets.Clear();
        for (int t = 0; t < n; t++) offsets[batch.Slots[t] + 1]++;
        for (int s = 0; s < slots; s++) offsets[s + 1] += offsets[s];
        for (int t = 0; t < n; t++) _order[offsets[batch.Slots[t]]++] = t;
        // offsets[s] now ends slot s's run; runs are in slot order.
        _tileCount = 0;
        int perTile = TileTokens;
        for (int s = 0, start = 0; s < slots; start = offsets[s], s++)
            for (int at = start; at < offsets[s]; at += perTile)
            {
                _tileStarts[_tileCount] = at;
                _tileCounts[_tileCount++] = Math.Min(perTile, offsets[s] - at);
            }
    }

    private void Attend(AttentionTile tile, int tileIndex, int kvHead)
    {
        int headDim = config.HeadDim, kvDim = config.KeyValueDim, kvHeads = config.KeyValueHeads, window = config.SlidingWindow;
        int start = _tileStarts[tileIndex], count = _tileCounts[tileIndex];
        var batch = _batch!;
        var cache = _cache!;
        int slot = batch.Slots[_order[start]];
        tile.Start(count * _group, _scale);
        int first = int.MaxValue, last = -1;
        for (int k = 0; k < count; k++)
        {
            int t = _order[start + k], position = batch.Positions[t];
            int visible = window > 0 ? Math.Max(0, position - window + 1) : 0;
            (first, last) = (Math.Min(first, visible), Math.Max(last, position));
            for (int g = 0; g < _group; g++)
            {
                int h = kvHead * _group + g;
                tile.SetRow(k * _group + g, _query.AsSpan(t * _queryStride + h * headDim, headDim), position, visible, alibiSlopes?[h] ?? 0);
            }
        }

        // Each cache block's run of positions once for every row; rows mask what they may not see.
        int kvOffset = kvHead * headDim;
        for (int p = first, run; p <= last; p += run)
        {
            run = Math.Min(cache.BlockSize - p % cache.BlockSize, last + 1 - p);
            if (cache.Type == KvCacheType.Int8)
                tile.Attend(cache.BlockKeys8(_layer, slot, p, run)[kvOffset..], cache.BlockValues8(_layer, slot, p, run)[kvOffset..],
                    cache.BlockKeyScales(_layer, slot, p, run)[kvHead..], cache.BlockValueScales(_layer, slot, p, run)[kvHead..], kvDim, kvHeads, p, run);
            else
                tile.Attend(cache.BlockKeys(_layer, slot, p, run)[kvOffset..], cache.BlockValues(_layer, slot, p, run)[kvOffset..], kvDim, p, run);
        }

        for (int k = 0; k < count; k++)
        {
            int t = _order[start + k];
            for (int g = 0; g < _group; g++)
                tile.Finish(k * _group + g, _destination.AsSpan(t * config.QueryDim + (kvHead * _group + g) * headDim, headDim));
        }
    }
}
