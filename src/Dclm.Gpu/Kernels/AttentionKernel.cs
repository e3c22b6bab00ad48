using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// Causal attention of each (token, query head) over its sequence's paged cache. A warp walks a range of visible
/// positions a warp's width at a time; lane j scores position p0 + j (q·k/√d, minus ALiBi's slope·distance), the warp
/// folds the chunk into an online softmax (running max m, denominator l), and each lane owns headDim/W output
/// dimensions, accumulating Σ_j e_j·v_j from shared memory. <see cref="Attend"/> gives a warp the whole context
/// (out = acc / l). For long contexts (flash-decoding) <see cref="AttendSplit"/> gives each of several warps
/// <see cref="AttentionShape.SplitLength"/> positions of it, writing (acc, m, l), and <see cref="Combine"/> merges them:
/// M = max m_s, out = Σ_s acc_s·e^(m_s − M) / Σ_s l_s·e^(m_s − M). Split boundaries depend only on the token's own context,
/// so a token's result does not depend on its batch; with one split, Combine returns acc / l exactly as Attend does.
/// The per-warp walk here is the fallback and A/B reference for <see cref="TiledAttentionKernel"/> (DCLM_GPU_ATTENTION=warp);
/// <see cref="Combine"/> merges either kernel's partials. Products that feed a sum are <see cref="DeviceNumbers.Multiply"/>
/// (never contracted into an fma by ptxas), in both attention kernels, so a GPU rounds as the CPU accelerator does.
/// </summary>
internal static class AttentionKernel
{
    /// <summary>Largest head width the kernel's shared accumulator holds.</summary>
    public const int MaxHeadDim = 256;
    /// <summary>Largest warp the kernel's shared score buffer holds.</summary>
    public const int MaxWarp = 64;

    /// <summary>One warp per (token, head) over the whole visible context: group g = t·heads + h.</summary>
    public static void Attend(ArrayView<float> qkv, ArrayView<float> keys, ArrayView<float> values, ArrayView<int> tables,
        ArrayView<int> tokenTables, ArrayView<int> positions, ArrayView<float> slopes, AttentionShape shape, ArrayView<float> output)
    {
        var accumulator = SharedMemory.Allocate<float>(MaxHeadDim);
        var weights = SharedMemory.Allocate<float>(MaxWarp);
        int t = Grid.IdxX / shape.Heads, h = Grid.IdxX % shape.Heads;
        int position = positions[t], first = First(position, shape);
        var state = Walk(qkv, keys, values, tables, tokenTables, slopes, shape, t, h, position, first, position, accumulator, weights);
        long o = (long)t * shape.Heads * shape.HeadDim + h * shape.HeadDim;
        for (int j = Group.IdxX; j < shape.HeadDim; j += Group.DimX) output[o + j] = accumulator[j] / state.Denominator;
    }

    /// <summary>
    /// One warp per (token, head, split): group g = (t·heads + h)·splits + s walks positions [first + s·L, first + (s + 1)·L)
    /// of the token's visible range and writes partials[g] = (acc[0..d), m, l); splits past the token's context do nothing.
    /// </summary>
    public static void AttendSplit(ArrayView<float> qkv, ArrayView<float> keys, ArrayView<float> values, ArrayView<int> tables,
        ArrayView<int> tokenTables, ArrayView<int> positions, ArrayView<float> slopes, AttentionShape shape, ArrayView<float> partials)
    {
        var accumulator = SharedMemory.Allocate<float>(MaxHeadDim);
        var weights = SharedMemory.Allocate<float>(MaxWarp);
        int split = Grid.IdxX % shape.Splits, pair = Grid.IdxX / shape.Splits;
        int t = pair / shape.Heads, h = pair % shape.Heads;
        int position = positions[t], from = First(position, shape) + split * shape.SplitLength;
        if (from > position) return;
        int to = Math.Min(position, from + shape.SplitLength - 1);
        var state = Walk(qkv, keys, values, tables, tokenTables, slopes, shape, t, h, position, from, to, accumulator, weights);
        long o = (long)Grid.IdxX * (shape.HeadDim + 2);
        for (int j = Group.IdxX; j < shape.HeadDim; j += Group.DimX) partials[o + j] = accumulator[j];
        if (Group.IdxX == 0)
        {
            partials[o + shape.HeadDim] = state.Max;
            partials[o + shape.HeadDim + 1] = state.Denominator;
        }
    }

    /// <summary>One group per (token, head): merges the token's used splits in order into out (see the class summary).</summary>
    public static void Combine(ArrayView<float> partials, ArrayView<int> positions, AttentionShape shape, ArrayView<float> output)
    {
        int t = Grid.IdxX / shape.Heads, h = Grid.IdxX % shape.Heads, d = shape.HeadDim;
        int position = positions[t], first = First(position, shape);
        int used = (position - first) / shape.SplitLength + 1;
        long base0 = (long)Grid.IdxX * shape.Splits * (d + 2);
        float max = float.NegativeInfinity;
        for (int s = 0; s < used; s++)
        {
            float m = partials[base0 + s * (d + 2) + d];
            max = m > max ? m : max;
        }
        float denominator = 0;
        for (int s = 0; s < used; s++)
            denominator += DeviceNumbers.Multiply(partials[base0 + s * (d + 2) + d + 1], MathF.Exp(partials[base0 + s * (d + 2) + d] - max));
        long o = (long)t * shape.Heads * d + h * d;
        for (int j = Group.IdxX; j < d; j += Group.DimX)
        {
            float sum = 0;
            for (int s = 0; s < used; s++) sum += DeviceNumbers.Multiply(partials[base0 + s * (d + 2) + j], MathF.Exp(partials[base0 + s * (d + 2) + d] - max));
            output[o + j] = sum / denominator;
        }
    }

    /// <summary>The first visible position: the window's start, or 0 (both attention kernels).</summary>
    internal static int First(int position, AttentionShape shape) => shape.Window > 0 ? Math.Max(0, position - shape.Window + 1) : 0;

    /// <summary>
    /// The online softmax of token t (at <paramref name="position"/>), head h over positions [from, to]: leaves Σ e_p·v_p (scaled to the final max) in
    /// <paramref name="accumulator"/> and returns (max, denominator).
    /// </summary>
    private static SoftmaxState Walk(ArrayView<float> qkv, ArrayView<float> keys, ArrayView<float> values, ArrayView<int> tables,
        ArrayView<int> tokenTables, ArrayView<float> slopes, AttentionShape shape, int t, int h, int position, int from, int to,
        ArrayView<float> accumulator, ArrayView<float> weights)
    {
        int lane = Group.IdxX, width = Group.DimX, d = shape.HeadDim;
        int kvHead = h / (shape.Heads / shape.KeyValueHeads);
        long query = (long)t * shape.Stride + h * d, table = (long)tokenTables[t] * shape.TableWidth;
        float slope = shape.Alibi != 0 ? slopes[h] : 0;
        for (int j = lane; j < d; j += width) accumulator[j] = 0;
        float max = float.NegativeInfinity, denominator = 0;
        for (int p0 = from; p0 <= to; p0 += width)
        {
            int p = p0 + lane;
            float score = float.NegativeInfinity;
            if (p <= to)
            {
                long key = CacheRow(tables, table, p, shape) * shape.KeyValueDim + kvHead * d;
                float dot = 0;
                for (int j = 0; j < d; j++) dot += DeviceNumbers.Multiply(qkv[query + j], keys[key + j]);
                score = DeviceNumbers.Multiply(dot, shape.Scale) - DeviceNumbers.Multiply(slope, position - p);
            }
            float chunkMax = DeviceNumbers.WarpAllMax(score);
            float newMax = chunkMax > max ? chunkMax : max;
            float e = p <= to ? MathF.Exp(score - newMax) : 0;
            float correction = max == float.NegativeInfinity ? 0 : MathF.Exp(max - newMax);
            denominator = DeviceNumbers.Multiply(denominator, correction) + DeviceNumbers.WarpAllSum(e);
            weights[lane] = e;
            Group.Barrier();
            int last = Math.Min(width, to - p0 + 1);
            for (int j = lane; j < d; j += width)
            {
                float sum = DeviceNumbers.Multiply(accumulator[j], correction);
                for (int k = 0; k < last; k++) sum += DeviceNumbers.Multiply(weights[k], values[CacheRow(tables, table, p0 + k, shape) * shape.KeyValueDim + kvHead * d + j]);
                accumulator[j] = sum;
            }
            Group.Barrier();
            max = newMax;
        }
        return new SoftmaxState { Max = max, Denominator = denominator };
    }

    /// <summary>The cache row (block·blockSize + offset) holding position <paramref name="p"/> of the sequence (both attention kernels).</summary>
    internal static long CacheRow(ArrayView<int> tables, long table, int p, AttentionShape shape) =>
        (long)tables[table + p / shape.BlockSize] * shape.BlockSize + p % shape.BlockSize;
}

/// <summary>The running max and denominator of an online softmax.</summary>
internal struct SoftmaxState
{
    public float Max, Denominator;
}

/// <summary>
/// Sizes for <see cref="AttentionKernel"/> and <see cref="TiledAttentionKernel"/>: Q|K|V row stride, heads, cache geometry,
/// 1/√d, window, ALiBi on/off, and for the split kernels the positions per split and the splits per (token, head) of the
/// step (the most any token uses). The tiled kernel's launch constants: query heads per group (sharing one KV head),
/// positions per staged chunk, lanes per dot, the chunk's row stride (head width + lanes per dot), and whether it writes
/// split partials (1) or the output (0).
/// </summary>
internal struct AttentionShape
{
    public int Stride, Heads, KeyValueHeads, HeadDim, KeyValueDim, BlockSize, TableWidth, Window, Alibi, SplitLength, Splits;
    public int HeadBlock, ChunkLength, ThreadsPerDot, KeyStride, Partials;
    public float Scale;
}
