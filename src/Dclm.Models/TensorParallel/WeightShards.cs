using System.Runtime.InteropServices;
using Dclm.Tensors;

namespace Dclm.Models.TensorParallel;

/// <summary>
/// Cuts a rank's shard out of a whole model's weights (<see cref="TensorParallelism"/>). Row shards (W_q, W_k, W_v,
/// W_gate, W_up) are views of the rows in place, so a memory-mapped file is read only where this rank's rows lie; column
/// shards (W_o, W_down) are copied into memory this rank owns, a whole number of quantization blocks from each row.
/// </summary>
public static class WeightShards
{
    /// <summary>
    /// This rank's weights of <paramref name="whole"/> (whose shapes are <paramref name="parallel"/>'s whole model),
    /// owning the column copies and <paramref name="whole"/> itself (which keeps the file alive).
    /// </summary>
    public static ModelWeights Shard(ModelWeights whole, TensorParallelism parallel)
    {
        whole.Validate(parallel.Model);
        var c = parallel.ShardConfig;
        int r = parallel.Rank, qd = c.QueryDim, kv = c.KeyValueDim, h = c.HiddenDim;
        bool fullWidth = c.QueryKeyNorm == QueryKeyNorm.FullWidth;
        var memory = new ShardMemory();
        try
        {
            var layers = new LayerWeights[whole.Layers.Length];
            for (int i = 0; i < layers.Length; i++)
            {
                var l = whole.Layers[i];
                parallel.CheckColumnSplit($"layer {i} attention output", l.Output);
                parallel.CheckColumnSplit($"layer {i} down", l.Down);
                layers[i] = new LayerWeights
                {
                    AttentionNorm = l.AttentionNorm,
                    Query = l.Query.RowSlice(r * qd, qd),
                    Key = l.Key.RowSlice(r * kv, kv),
                    Value = l.Value.RowSlice(r * kv, kv),
                    QueryBias = Slice(l.QueryBias, r, qd),
                    KeyBias = Slice(l.KeyBias, r, kv),
                    ValueBias = Slice(l.ValueBias, r, kv),
                    // Full-width q/k norms (open_lm) keep the gains of this rank's slice; per-head gains (Qwen3) are shared.
                    QueryNorm = fullWidth ? Slice(l.QueryNorm, r, qd) : l.QueryNorm,
                    KeyNorm = fullWidth ? Slice(l.KeyNorm, r, kv) : l.KeyNorm,
                    Output = memory.Columns(l.Output, r * qd, qd),
                    FeedForwardNorm = l.FeedForwardNorm,
                    Gate = l.Gate.RowSlice(r * h, h),
                    Up = l.Up.RowSlice(r * h, h),
                    Down = memory.Columns(l.Down, r * h, h),
                    RopeInverseFrequency = l.RopeInverseFrequency,
                };
            }
            return new ModelWeights(whole.TokenEmbedding, layers, whole.FinalNorm, whole.Output, memory, whole);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    private static float[]? Slice(float[]? values, int rank, int width) => values?.AsSpan(rank * width, width).ToArray();

    /// <summary>Native blocks holding the column shards.</summary>
    private sealed unsafe class ShardMemory : IDisposable
    {
        private readonly List<nint> _blocks = [];

        /// <summary>Columns [start, start + count) of every row of <paramref name="whole"/>, copied; both a whole number of blocks.</summary>
        public WeightMatrix Columns(WeightMatrix whole, int start, int count)
        {
            long offset = GgmlTypeInfo.ByteCount(whole.Type, start), rowBytes = GgmlTypeInfo.ByteCount(whole.Type, count);
            var data = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, rowBytes * whole.Rows), 64);
            _blocks.Add((nint)data);
            for (int row = 0; row < whole.Rows; row++)
                new ReadOnlySpan<byte>(whole.Row(row) + offset, (int)rowBytes).CopyTo(new Span<byte>(data + row * rowBytes, (int)rowBytes));
            return new WeightMatrix(data, whole.Type, whole.Rows, count);
        }

        public void Dispose()
        {
            foreach (var block in _blocks) NativeMemory.AlignedFree((void*)block);
            _blocks.Clear();
        }
    }
}
