using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// Kernels that do in one launch what a run of <see cref="ElementKernels"/> launches did, through the same
/// <see cref="RowMath"/> operations in the same order, so the results are the same bits and only the launch count
/// changes (a launch costs ~4.5 µs of host time on an H200; most of these kernels run for less).
/// </summary>
internal static class FusedKernels
{
    /// <summary>
    /// <see cref="ElementKernels.Norm"/> of whole rows (Pieces = 1), then, with Quantize, <see cref="ElementKernels.QuantizeToQ8"/>
    /// of each normed row: one group per output row r, reading input row rows[r] with Gather (the head's logit rows, as
    /// <see cref="ElementKernels.GatherRows"/> then Norm did) and row r without. The quantizing pass reads y after a group
    /// barrier, which orders the group's global writes before its reads. levels (rows, width/4), scales (rows, width/32).
    /// </summary>
    public static void NormRows(ArrayView<float> x, ArrayView<int> rows, ArrayView<float> y, ArrayView<float> gain, NormShape shape,
        ArrayView<int> levels, ArrayView<float> scales)
    {
        var partial = SharedMemory.Allocate<float>(ElementKernels.NormThreads);
        int row = Grid.IdxX, lane = Group.IdxX, threads = Group.DimX;
        int source = shape.Gather != 0 ? rows[row] : row;
        long xs = (long)source * shape.InputStride + shape.InputOffset, ys = (long)row * shape.OutputStride + shape.OutputOffset;
        RowMath.NormalizeSegment(partial, x, xs, y, ys, shape.Width, gain, shape.LayerNorm != 0, shape.Epsilon, lane, threads);
        if (shape.Quantize == 0) return;
        Group.Barrier();
        int blocks = shape.Width / 32;
        for (int b = lane; b < blocks; b += threads) RowMath.QuantizeBlock(y, ys + 32L * b, levels, scales, (long)row * blocks + b);
    }

    /// <summary>
    /// <see cref="ElementKernels.SwiGlu"/> then <see cref="ElementKernels.QuantizeToQ8"/> for the down projection: one thread
    /// per block of 32 hidden values (block = t·width/32 + j/32), writing hidden (tokens, width) and the block's Q8_0 levels
    /// and scale from the values it just wrote.
    /// </summary>
    public static void SwiGluQuantize(Index1D block, ArrayView<float> gateUp, int width, ArrayView<float> hidden, ArrayView<int> levels,
        ArrayView<float> scales)
    {
        int perRow = width / 32, t = block / perRow;
        long from = (long)t * 2 * width + block % perRow * 32, start = (long)block.X * 32;
        for (int j = 0; j < 32; j++) hidden[start + j] = RowMath.SwiGlu(gateUp[from + j], gateUp[from + width + j]);
        RowMath.QuantizeBlock(hidden, start, levels, scales, block.X);
    }

    /// <summary>
    /// Everything between the Q|K|V projection and attention, one group per (token, q or k): the biases (q, k, and v in
    /// the k group), the q/k norm over the full width or per head, RoPE, and for k the store of k and v at the token's cache
    /// row: what <see cref="ElementKernels.AddBias"/>, <see cref="ElementKernels.Norm"/>, <see cref="ElementKernels.Rope"/> and
    /// <see cref="ElementKernels.StoreKeyValue"/> did in up to seven launches. Each stage reads what the group wrote before a
    /// barrier. Groups run <see cref="ElementKernels.NormThreads"/> threads, as the unfused norm's do (its sum tree).
    /// </summary>
    public static void PrepareQueryKeyValue(ArrayView<float> qkv, ArrayView<float> queryNorm, ArrayView<float> keyNorm, ArrayView<float> queryBias,
        ArrayView<float> keyBias, ArrayView<float> valueBias, ArrayView<float> cos, ArrayView<float> sin, ArrayView<int> cacheRows,
        ArrayView<float> keys, ArrayView<float> values, PrepareShape shape)
    {
        var partial = SharedMemory.Allocate<float>(ElementKernels.NormThreads);
        int t = Grid.IdxX / 2, lane = Group.IdxX, threads = Group.DimX;
        bool key = Grid.IdxX % 2 == 1;
        int width = key ? shape.KeyValueDim : shape.QueryDim, heads = key ? shape.KeyValueHeads : shape.Heads;
        long row = (long)t * shape.Stride, start = row + (key ? shape.QueryDim : 0), valueStart = row + shape.QueryDim + shape.KeyValueDim;
        if (shape.Bias != 0)
        {
            for (int j = lane; j < width; j += threads)
            {
                qkv[start + j] += key ? keyBias[j] : queryBias[j];
                if (key) qkv[valueStart + j] += valueBias[j];
            }
            Group.Barrier();
        }
        if (shape.Norm == PrepareShape.FullWidth)
        {
            RowMath.NormalizeSegment(partial, qkv, start, qkv, start, width, key ? keyNorm : queryNorm, shape.LayerNorm != 0, shape.Epsilon, lane, threads);
            Group.Barrier();
        }
        else if (shape.Norm == PrepareShape.PerHead)
        {
            for (int head = 0; head < heads; head++)
            {
                long at = start + (long)head * shape.HeadDim;
                RowMath.NormalizeSegment(partial, qkv, at, qkv, at, shape.HeadDim, key ? keyNorm : queryNorm, shape.LayerNorm != 0, shape.Epsilon, lane, threads);
            }
            Group.Barrier();
        }
        if (shape.Rotary != 0)
        {
            int half = shape.HeadDim / 2;
            for (int i = lane; i < heads * half; i += threads)
            {
                int head = i / half, p = i % half;
                long at = start + (long)head * shape.HeadDim;
                long first = at + (shape.AdjacentPairs != 0 ? 2 * p : p), second = at + (shape.AdjacentPairs != 0 ? 2 * p + 1 : p + half);
                RowMath.Rotate(qkv, first, second, cos[t * half + p], sin[t * half + p]);
            }
            Group.Barrier();
        }
        if (!key) return;
        for (int j = lane; j < width; j += threads)
        {
            long at = (long)cacheRows[t] * shape.KeyValueDim + j;
            keys[at] = qkv[start + j];
            values[at] = qkv[valueStart + j];
        }
    }
}

/// <summary>
/// Layout of Q|K|V rows and the steps <see cref="FusedKernels.PrepareQueryKeyValue"/> runs: Norm is <see cref="NoNorm"/>,
/// <see cref="FullWidth"/> or <see cref="PerHead"/>; Bias, Rotary, AdjacentPairs and LayerNorm are 0 or 1.
/// </summary>
internal struct PrepareShape
{
    public const int NoNorm = 0, FullWidth = 1, PerHead = 2;
    public int Stride, QueryDim, KeyValueDim, Heads, KeyValueHeads, HeadDim, Norm, LayerNorm, Rotary, AdjacentPairs, Bias;
    public float Epsilon;
}
