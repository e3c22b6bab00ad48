using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Models;

/// <summary>
/// Scaled dot-product attention of each batch token over its own sequence's cached keys and values:
/// out_h = Σ_j softmax_j(q_h·k_j/√d + bias_hj) v_j over j in [first, position], where first is 0, or
/// position − window + 1 with a sliding window, and bias is ALiBi's −slope_h·(position − j) when enabled.
/// One reusable job per model; (token, head) items are claimed from a shared counter by the pool's threads.
/// </summary>
internal sealed class CausalAttention(ModelConfig config, float[]? alibiSlopes) : ComputeJob
{
    private readonly float _scale = 1f / MathF.Sqrt(config.HeadDim);
    private readonly bool _blocked = AttentionBlocks.Supports(config.HeadDim);
    private float[][] _scores = [];
    private float[][] _rows = [];
    private KvCache? _cache;
    private ForwardBatch? _batch;
    private float[] _query = [], _destination = [];
    private int _layer, _next;

    /// <summary>Attends every (token, head) of <paramref name="batch"/>; query and destination are (tokens, heads·headDim).</summary>
    public void Run(ComputePool pool, KvCache cache, int layer, ForwardBatch batch, float[] query, float[] destination)
    {
        if (_scores.Length < pool.Threads || _scores[0].Length < cache.Capacity)
        {
            _scores = Enumerable.Range(0, pool.Threads).Select(_ => new float[cache.Capacity]).ToArray();
            _rows = Enumerable.Range(0, pool.Threads).Select(_ => new float[config.HeadDim]).ToArray();
        }
        (_cache, _layer, _batch, _query, _destination, _next) = (cache, layer, batch, query, destination, 0);
        pool.Run(this);
        (_cache, _batch) = (null, null);
    }

    public override void Execute(int thread, int threads)
    {
        int heads = config.Heads, items = _batch!.Count * heads;
        var scores = _scores[thread];
        for (int item = Interlocked.Increment(ref _next) - 1; item < items; item = Interlocked.Increment(ref _next) - 1)
            AttendOne(item / heads, item % heads, scores, _rows[thread]);
    }

    private void AttendOne(int t, int h, float[] scoreBuffer, float[] row)
    {
        int headDim = config.HeadDim, dim = config.QueryDim, kvDim = config.KeyValueDim;
        int slot = _batch!.Slots[t], position = _batch.Positions[t];
        int first = config.SlidingWindow > 0 ? Math.Max(0, position - config.SlidingWindow + 1) : 0;
        int count = position - first + 1;
        var cache = _cache!;
        int blockSize = cache.BlockSize;
        var q = _query.AsSpan(t * dim + h * headDim, headDim);
        int kvOffset = h / (config.Heads / config.KeyValueHeads) * headDim;
        var scores = scoreBuffer.AsSpan(0, count);
        // Positions are visited block by block, since consecutive blocks of a slot need not be adjacent.
        for (int p = first; p <= position;)
        {
            int run = Math.Min(blockSize - p % blockSize, position + 1 - p);
            bool int8 = cache.Type == KvCacheType.Int8;
            var keys = int8 ? default : cache.BlockKeys(_layer, slot, p, run);
            var keys8 = int8 ? cache.BlockKeys8(_layer, slot, p, run) : default;
            var keyScales = int8 ? cache.BlockKeyScales(_layer, slot, p, run) : default;
            int kvHeads = config.KeyValueHeads, kvHead = kvOffset / headDim;
            int i = 0;
            // Whole runs of sixteen positions at once; which positions go this way depends only on the
            // position and the block size, so a token gets the same bits alone or in a batch.
            if (_blocked)
            {
                for (; i + AttentionBlocks.Positions <= run; i += AttentionBlocks.Positions, p += AttentionBlocks.Positions)
                {
                    var block = scores.Slice(p - first, AttentionBlocks.Positions);
                    if (int8) AttentionBlocks.Scores(q, keys8[(i * kvDim + kvOffset)..], kvDim, headDim, block);
                    else AttentionBlocks.Scores(q, keys[(i * kvDim + kvOffset)..], kvDim, headDim, block);
                    for (int j = 0; j < block.Length; j++)
                    {
                        float s = (int8 ? block[j] * keyScales[(i + j) * kvHeads + kvHead] : block[j]) * _scale;
                        if (alibiSlopes is not null) s -= alibiSlopes[h] * (position - (p + j));
                        block[j] = s;
                    }
                }
            }
            for (; i < run; i++, p++)
            {
                float dot;
                if (int8)
                {
                    dot = HeadDot(q, keys8.Slice(i * kvDim + kvOffset, headDim), row) * keyScales[i * kvHeads + kvHead];
                }
                else
                {
                    dot = HeadDot(q, keys.Slice(i * kvDim + kvOffset, headDim));
                }
                float s = dot * _scale;
                if (alibiSlopes is not null) s -= alibiSlopes[h] * (position - p);
                scores[p - first] = s;
            }
        }
        Softmax.InPlace(scores);
        var output = _destination.AsSpan(t * dim + h * headDim, headDim);
        output.Clear();
        for (int p = first; p <= position;)
        {
            int run = Math.Min(blockSize - p % blockSize, position + 1 - p);
            if (cache.Type == KvCacheType.Int8)
            {
                var values8 = cache.BlockValues8(_layer, slot, p, run);
                var valueScales = cache.BlockValueScales(_layer, slot, p, run);
                int kvHeads = config.KeyValueHeads, kvHead = kvOffset / headDim;
                if (_blocked)
                {
                    // This head's weights are used once more, here: fold each value's scale into its weight.
                    var weights = scores.Slice(p - first, run);
                    for (int i = 0; i < run; i++) weights[i] *= valueScales[i * kvHeads + kvHead];
                    AttentionBlocks.AddWeighted(values8[kvOffset..], kvDim, run, headDim, weights, output);
                    p += run;
                    continue;
                }
                for (int i = 0; i < run; i++, p++)
                {
                    TensorPrimitives.ConvertChecked<sbyte, float>(values8.Slice(i * kvDim + kvOffset, headDim), row);
                    TensorPrimitives.MultiplyAdd(row, scores[p - first] * valueScales[i * kvHeads + kvHead], output, output);
                }
                continue;
            }
            var values = cache.BlockValues(_layer, slot, p, run);
            if (_blocked)
            {
                AttentionBlocks.AddWeighted(values[kvOffset..], kvDim, run, headDim, scores.Slice(p - first, run), output);
                p += run;
                continue;
            }
            for (int i = 0; i < run; i++, p++)
                HeadMultiplyAdd(values.Slice(i * kvDim + kvOffset, headDim), scores[p - first], output);
        }
    }

    // Heads are short (64..128 floats) and these run once per (token, head, position): inline 256-bit
    // loops cost a fraction of TensorPrimitives' per-call dispatch at this length (pp512 spent ~15% of
    // its time in those calls).
    private static float HeadDot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length % 16 != 0 || !Vector256.IsHardwareAccelerated || y.Length < x.Length) return TensorPrimitives.Dot(x, y);
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        Vector256<float> sum0 = Vector256<float>.Zero, sum1 = Vector256<float>.Zero;
        for (int i = 0; i < x.Length; i += 16)
        {
            sum0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i), sum0);
            sum1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i + 8), Vector256.LoadUnsafe(ref py, (nuint)i + 8), sum1);
        }
        return Vector256.Sum(sum0 + sum1);
    }

    /// <summary>q · k over int8 keys (unscaled); <paramref name="row"/> is scratch for the widened keys without AVX-512.</summary>
    private float HeadDot(ReadOnlySpan<float> q, ReadOnlySpan<sbyte> k, float[] row)
    {
        if (_blocked) return AttentionBlocks.Dot(q, k);
        TensorPrimitives.ConvertChecked<sbyte, float>(k, row);
        return TensorPrimitives.Dot(q, row);
    }

    /// <summary>destination += x · scale.</summary>
    private static void HeadMultiplyAdd(ReadOnlySpan<float> x, float scale, Span<float> destination)
    {
        if (x.Length % 8 != 0 || !Vector256.IsHardwareAccelerated || destination.Length < x.Length)
        {
            TensorPrimitives.MultiplyAdd(x, scale, destination, destination);
            return;
        }
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(destination);
        Vector256<float> factor = Vector256.Create(scale);
        for (int i = 0; i < x.Length; i += 8)
            Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), factor, Vector256.LoadUnsafe(ref pd, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
    }
}
