using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// Causal attention of each (token, query head) over its sequence's paged cache: one warp per pair. The warp walks the
/// visible positions a warp's width at a time; lane j scores position p0 + j (q·k/√d, minus ALiBi's slope·distance),
/// the warp folds the chunk into an online softmax (running max m, denominator l), and each lane owns headDim/W output
/// dimensions, accumulating Σ_j e_j·v_j from shared memory. out = acc / l.
/// </summary>
internal static class AttentionKernel
{
    /// <summary>Largest head width the kernel's shared accumulator holds.</summary>
    public const int MaxHeadDim = 256;
    /// <summary>Largest warp the kernel's shared score buffer holds.</summary>
    public const int MaxWarp = 64;

    public static void Attend(ArrayView<float> qkv, ArrayView<float> keys, ArrayView<float> values, ArrayView<int> tables,
        ArrayView<int> tokenTables, ArrayView<int> positions, ArrayView<float> slopes, AttentionShape shape, ArrayView<float> output)
    {
        var accumulator = SharedMemory.Allocate<float>(MaxHeadDim);
        var weights = SharedMemory.Allocate<float>(MaxWarp);
        int lane = Group.IdxX, width = Group.DimX;
        int t = Grid.IdxX / shape.Heads, h = Grid.IdxX % shape.Heads;
        int kvHead = h / (shape.Heads / shape.KeyValueHeads), d = shape.HeadDim;
        int position = positions[t], first = shape.Window > 0 ? Math.Max(0, position - shape.Window + 1) : 0;
        long query = (long)t * shape.Stride + h * d, table = (long)tokenTables[t] * shape.TableWidth;
        float slope = shape.Alibi != 0 ? slopes[h] : 0;
        for (int j = lane; j < d; j += width) accumulator[j] = 0;
        float max = float.NegativeInfinity, denominator = 0;
        for (int p0 = first; p0 <= position; p0 += width)
        {
            int p = p0 + lane;
            float score = float.NegativeInfinity;
            if (p <= position)
            {
                long key = CacheRow(tables, table, p, shape) * shape.KeyValueDim + kvHead * d;
                float dot = 0;
                for (int j = 0; j < d; j++) dot += qkv[query + j] * keys[key + j];
                score = dot * shape.Scale - slope * (position - p);
            }
            float chunkMax = DeviceNumbers.WarpAllMax(score);
            float newMax = chunkMax > max ? chunkMax : max;
            float e = p <= position ? MathF.Exp(score - newMax) : 0;
            float correction = max == float.NegativeInfinity ? 0 : MathF.Exp(max - newMax);
            denominator = denominator * correction + DeviceNumbers.WarpAllSum(e);
            weights[lane] = e;
            Group.Barrier();
            int last = Math.Min(width, position - p0 + 1);
            for (int j = lane; j < d; j += width)
            {
                float sum = accumulator[j] * correction;
                for (int k = 0; k < last; k++) sum += weights[k] * values[CacheRow(tables, table, p0 + k, shape) * shape.KeyValueDim + kvHead * d + j];
                accumulator[j] = sum;
            }
            Group.Barrier();
            max = newMax;
        }
        long o = (long)t * shape.Heads * d + h * d;
        for (int j = lane; j < d; j += width) output[o + j] = accumulator[j] / denominator;
    }

    /// <summary>The cache row (block·blockSize + offset) holding position <paramref name="p"/> of the token's sequence.</summary>
    private static long CacheRow(ArrayView<int> tables, long table, int p, AttentionShape shape) =>
        (long)tables[table + p / shape.BlockSize] * shape.BlockSize + p % shape.BlockSize;
}

/// <summary>Sizes for <see cref="AttentionKernel.Attend"/>: Q|K|V row stride, heads, cache geometry, 1/√d, window, ALiBi on/off.</summary>
internal struct AttentionShape
{
    public int Stride, Heads, KeyValueHeads, HeadDim, KeyValueDim, BlockSize, TableWidth, Window, Alibi;
    public float Scale;
}
