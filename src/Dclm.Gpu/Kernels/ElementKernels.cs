using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>The small kernels of a step: one thread per element (or per block), except the norms (a group per row).</summary>
internal static class ElementKernels
{
    /// <summary>Most threads per group of <see cref="Norm"/> (a power of two; fewer where groups are smaller).</summary>
    public const int NormThreads = 128;

    /// <summary>
    /// x quantized to ggml Q8_0 as the CPU engine quantizes activations for Q8_0 and Q4_0 weights, one thread per block of
    /// 32 (<see cref="RowMath.QuantizeBlock"/>): levels (blocks·8) packed four to an int, scales (blocks) f16(d) as floats.
    /// </summary>
    public static void QuantizeToQ8(Index1D block, ArrayView<float> x, ArrayView<int> levels, ArrayView<float> scales) =>
        RowMath.QuantizeBlock(x, (long)block.X * 32, levels, scales, block.X);

    /// <summary>
    /// One group per segment of <see cref="NormShape.Width"/> values: segment s is piece s % pieces of row s / pieces.
    /// LayerNorm: y = (x − mean)/sqrt(var + eps)·gain with two passes; RMSNorm: y = x/sqrt(mean(x²) + eps)·gain. The gain
    /// is indexed within the segment (so one head-width gain serves every head). In place when y is x.
    /// </summary>
    public static void Norm(ArrayView<float> x, ArrayView<float> y, ArrayView<float> gain, NormShape shape)
    {
        var partial = SharedMemory.Allocate<float>(NormThreads);
        int segment = Grid.IdxX, lane = Group.IdxX, threads = Group.DimX;
        int row = segment / shape.Pieces, piece = segment % shape.Pieces;
        long xs = (long)row * shape.InputStride + shape.InputOffset + (long)piece * shape.Width;
        long ys = (long)row * shape.OutputStride + shape.OutputOffset + (long)piece * shape.Width;
        RowMath.NormalizeSegment(partial, x, xs, y, ys, shape.Width, gain, shape.LayerNorm != 0, shape.Epsilon, lane, threads);
    }

    /// <summary>x[t, offset + j] += bias[j] for every token t: i = t·width + j.</summary>
    public static void AddBias(Index1D i, ArrayView<float> x, int stride, int offset, int width, ArrayView<float> bias)
    {
        int t = i / width, j = i % width;
        x[(long)t * stride + offset + j] += bias[j];
    }

    /// <summary>
    /// RoPE on every head of every token's q and k inside the Q|K|V rows: i = (t·(heads + kvHeads) + head)·half + p, with
    /// the token's angles cos/sin (tokens, half). Half-split pairs p with p + half; adjacent pairs 2p with 2p + 1.
    /// </summary>
    public static void Rope(Index1D i, ArrayView<float> qkv, ArrayView<float> cos, ArrayView<float> sin, RopeShape shape)
    {
        int half = shape.HeadDim / 2, heads = shape.Heads + shape.KeyValueHeads;
        int p = i % half, head = i / half % heads, t = i / half / heads;
        long start = (long)t * shape.Stride + (head < shape.Heads ? head * shape.HeadDim : shape.QueryDim + (head - shape.Heads) * shape.HeadDim);
        long ia = start + (shape.AdjacentPairs != 0 ? 2 * p : p), ib = start + (shape.AdjacentPairs != 0 ? 2 * p + 1 : p + half);
        RowMath.Rotate(qkv, ia, ib, cos[t * half + p], sin[t * half + p]);
    }

    /// <summary>Each token's k and v (after q in its Q|K|V row) into the cache at its cache row: i = t·kvd + j.</summary>
    public static void StoreKeyValue(Index1D i, ArrayView<float> qkv, int stride, int queryDim, int keyValueDim, ArrayView<int> cacheRows,
        ArrayView<float> keys, ArrayView<float> values)
    {
        int t = i / keyValueDim, j = i % keyValueDim;
        long at = (long)cacheRows[t] * keyValueDim + j, from = (long)t * stride + queryDim + j;
        keys[at] = qkv[from];
        values[at] = qkv[from + keyValueDim];
    }

    /// <summary>hidden[t, j] = silu(g)·u with g, u = gateUp[t, j], gateUp[t, width + j]: i = t·width + j.</summary>
    public static void SwiGlu(Index1D i, ArrayView<float> gateUp, int width, ArrayView<float> hidden)
    {
        int t = i / width, j = i % width;
        float g = gateUp[(long)t * 2 * width + j], u = gateUp[(long)t * 2 * width + width + j];
        hidden[i] = RowMath.SwiGlu(g, u);
    }

    /// <summary>y[r, j] = x[rows[r], j]: i = r·width + j.</summary>
    public static void GatherRows(Index1D i, ArrayView<float> x, ArrayView<int> rows, int width, ArrayView<float> y)
    {
        int r = i / width, j = i % width;
        y[i] = x[(long)rows[r] * width + j];
    }

    /// <summary>y[i] = x[i]: copies within the device, for copy-on-write blocks and the bandwidth probe.</summary>
    public static void Copy(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[i];
}

/// <summary>
/// Where <see cref="ElementKernels.Norm"/> and <see cref="FusedKernels.NormRows"/> read and write: segments of Width values,
/// Pieces per row. NormRows only: Gather reads input row rows[r] for output row r, Quantize also writes Q8_0 levels.
/// </summary>
internal struct NormShape
{
    public int InputStride, InputOffset, OutputStride, OutputOffset, Pieces, Width, LayerNorm, Gather, Quantize;
    public float Epsilon;
}

/// <summary>Layout of Q|K|V rows for <see cref="ElementKernels.Rope"/>.</summary>
internal struct RopeShape
{
    public int Stride, Heads, KeyValueHeads, HeadDim, QueryDim, AdjacentPairs;
}
