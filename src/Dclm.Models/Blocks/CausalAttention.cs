using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Models.Blocks;

/// <summary>
/// Scaled dot-product attention of each batch token over its own sequence's cached keys and values:
/// out_h = Σ_j softmax_j(q_h·k_j/√d + bias_hj) v_j over j in [first, position], where first is 0, or
/// position − window + 1 with a sliding window, and bias is ALiBi's −slope_h·(position − j) when enabled.
/// One reusable job per lane; (token, head) items are claimed from a shared counter by the pool's threads.
/// The kernels (<see cref="AttentionScores"/>, <see cref="AttentionValues"/>) run over one cache block's run of
/// positions at a time, since consecutive blocks of a sequence need not be adjacent in memory.
/// </summary>
internal sealed class CausalAttention(ModelConfig config, float[]? alibiSlopes) : ComputeJob
{
    private readonly float _scale = 1f / MathF.Sqrt(config.HeadDim);
    // Per thread: the scores of one (token, head). (positions)
    private float[][] _scores = [];
    private KvCache? _cache;
    private ForwardBatch? _batch;
    // Queries, each token's (heads·headDim) row starting _queryStride after the previous; outputs (tokens, heads·headDim).
    private float[] _query = [], _destination = [];
    private int _layer, _queryStride, _next;

    /// <summary>
    /// Attends every (token, head) of <paramref name="batch"/>: query rows are <paramref name="queryStride"/> apart, each
    /// starting with the token's (heads·headDim) query; <paramref name="destination"/> is (tokens, heads·headDim).
    /// </summary>
    public void Run(ComputePool pool, KvCache cache, int layer, ForwardBatch batch, float[] query, int queryStride, float[] destination)
    {
        if (_scores.Length < pool.Threads || _scores[0].Length < cache.Capacity)
            _scores = Enumerable.Range(0, pool.Threads).Select(_ => new float[cache.Capacity]).ToArray();
        (_cache, _layer, _batch, _query, _queryStride, _destination, _next) = (cache, layer, batch, query, queryStride, destination, 0);
        pool.Run(this);
        (_cache, _batch) = (null, null);
    }

    public override void Execute(int thread, int threads)
    {
        int heads = config.Heads, items = _batch!.Count * heads;
        var scores = _scores[thread];
        for (int item = Interlocked.Increment(ref _next) - 1; item < items; item = Interlocked.Increment(ref _next) - 1)
            AttendOne(item / heads, item % heads, scores);
    }

    private void AttendOne(int t, int h, float[] scoreBuffer)
    {
        int headDim = config.HeadDim, kvDim = config.KeyValueDim, kvHeads = config.KeyValueHeads;
        int slot = _batch!.Slots[t], position = _batch.Positions[t];
        int first = config.SlidingWindow > 0 ? Math.Max(0, position - config.SlidingWindow + 1) : 0;
        var cache = _cache!;
        bool int8 = cache.Type == KvCacheType.Int8;
        var q = _query.AsSpan(t * _queryStride + h * headDim, headDim);
        int kvHead = h / (config.Heads / kvHeads), kvOffset = kvHead * headDim;
        var scores = scoreBuffer.AsSpan(0, position - first + 1);

        // s_j = q·k_j (· the key's int8 scale) / √d − slope·(position − j)
        for (int p = first, run; p <= position; p += run)
        {
            run = Math.Min(cache.BlockSize - p % cache.BlockSize, position + 1 - p);
            var block = scores.Slice(p - first, run);
            if (int8) AttentionScores.Compute(q, cache.BlockKeys8(_layer, slot, p, run)[kvOffset..], kvDim, run, block);
            else AttentionScores.Compute(q, cache.BlockKeys(_layer, slot, p, run)[kvOffset..], kvDim, run, block);
            var keyScales = int8 ? cache.BlockKeyScales(_layer, slot, p, run) : default;
            for (int i = 0; i < run; i++)
            {
                float s = (int8 ? block[i] * keyScales[i * kvHeads + kvHead] : block[i]) * _scale;
                if (alibiSlopes is not null) s -= alibiSlopes[h] * (position - (p + i));
                block[i] = s;
            }
        }
        Softmax.InPlace(scores);

        // out = Σ_j softmax_j · v_j, an int8 value's scale folded into its weight
        var output = _destination.AsSpan(t * config.QueryDim + h * headDim, headDim);
        output.Clear();
        for (int p = first, run; p <= position; p += run)
        {
            run = Math.Min(cache.BlockSize - p % cache.BlockSize, position + 1 - p);
            var weights = scores.Slice(p - first, run);
            if (int8)
            {
                var valueScales = cache.BlockValueScales(_layer, slot, p, run);
                for (int i = 0; i < run; i++) weights[i] *= valueScales[i * kvHeads + kvHead];
                AttentionValues.AddWeighted(cache.BlockValues8(_layer, slot, p, run)[kvOffset..], kvDim, run, weights, output);
            }
            else AttentionValues.AddWeighted(cache.BlockValues(_layer, slot, p, run)[kvOffset..], kvDim, run, weights, output);
        }
    }
}
