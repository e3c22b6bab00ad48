using System.Buffers;
using System.Numerics.Tensors;
using Dclm.Tensors.Ops;

namespace Dclm.Models;

/// <summary>
/// Scaled dot-product attention of each batch token over its own sequence's cached keys and values:
/// out_h = Σ_j softmax_j(q_h·k_j/√d + bias_hj) v_j over j in [first, position], where first is 0, or
/// position − window + 1 with a sliding window, and bias is ALiBi's −slope_h·(position − j) when enabled.
/// </summary>
internal static class CausalAttention
{
    public static void Run(ModelConfig config, KvCache cache, int layer, ForwardBatch batch, float[] query, float[] destination, float[]? alibiSlopes)
    {
        int heads = config.Heads, headDim = config.HeadDim, dim = config.Dim;
        int group = config.Heads / config.KeyValueHeads;
        int kvDim = config.KeyValueDim;
        float scale = 1f / MathF.Sqrt(headDim);
        int work = batch.Count * heads;
        Parallel.For(0, work, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, item =>
        {
            int t = item / heads, h = item % heads;
            int slot = batch.Slots[t], position = batch.Positions[t];
            int first = config.SlidingWindow > 0 ? Math.Max(0, position - config.SlidingWindow + 1) : 0;
            int count = position - first + 1;
            var keys = cache.SlotKeys(layer, slot, position + 1);
            var values = cache.SlotValues(layer, slot, position + 1);
            var q = query.AsSpan(t * dim + h * headDim, headDim);
            int kvOffset = (h / group) * headDim;
            float[] rented = ArrayPool<float>.Shared.Rent(count);
            var scores = rented.AsSpan(0, count);
            for (int j = 0; j < count; j++)
            {
                int p = first + j;
                float s = TensorPrimitives.Dot(q, keys.Slice(p * kvDim + kvOffset, headDim)) * scale;
                if (alibiSlopes is not null) s -= alibiSlopes[h] * (position - p);
                scores[j] = s;
            }
            Softmax.InPlace(scores);
            var output = destination.AsSpan(t * dim + h * headDim, headDim);
            output.Clear();
            for (int j = 0; j < count; j++)
            {
                var v = values.Slice((first + j) * kvDim + kvOffset, headDim);
                TensorPrimitives.MultiplyAdd(v, scores[j], output, output);
            }
            ArrayPool<float>.Shared.Return(rented);
        });
    }
}
