using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// LoRA adapters added after a projection, per row (S-LoRA / Punica's batched gather): each row r of a step on adapter
/// a gets y_r[part] += s·B·(A·x_r) for every update a has on the part, in the CPU engine's arithmetic
/// (<c>LowRankMath</c> in Dclm.Models), so the device adds the very bits the CPU engine adds: h_k = s·dot(A_k, x_r) with
/// the dot in eight fma chains (chain j over inputs j, j + 8, ... in order) finished as ((c0+c4)+(c2+c6))+((c1+c5)+(c3+c7)),
/// then each output column y = fma(h_k, Bᵀ[k, o], y) for k = 0, 1, ... Rows on the base (adapter 0) are left alone.
/// </summary>
internal static class AdapterKernels
{
    /// <summary>Ranks whose h a group holds in shared memory at once; larger ranks run in passes of this many.</summary>
    public const int RankPass = 64;

    /// <summary>Output columns per thread of a group (a group covers threads × this many columns of one part).</summary>
    public const int ColumnsPerThread = 4;

    /// <summary>
    /// One group per (token row, chunk of one part's columns): group g takes row g / ChunksPerRow and chunk g %
    /// ChunksPerRow (the chunks of part 0, then part 1, then part 2), and the row's adapter from adapters (tokens). For
    /// each update of that adapter on the part (heads gives (first, count) into updates per (layer, product, part,
    /// adapter)), the group computes h (each dot by eight lanes, chain j in lane j, finished by
    /// <see cref="MatrixKernels.RowTree"/>), then each thread adds the rank terms to its columns. With Residual ≠ 0, y
    /// is the product's own output (the CPU engine's block output) and each thread then adds its columns into residual
    /// (x += y, as the CPU engine adds a block's output), for every row. Groups write disjoint columns, and a row's bits
    /// depend only on the row and its adapter. values holds every adapter's A (rank, inputs) and Bᵀ (rank, part width)
    /// at the offsets its updates give; x is (tokens, inputs), y and residual (tokens, OutputStride).
    /// </summary>
    public static void AddLowRank(ArrayView<float> x, ArrayView<int> adapters, ArrayView<int> heads, ArrayView<AdapterUpdate> updates, ArrayView<float> values,
        AdapterShape shape, ArrayView<float> y, ArrayView<float> residual)
    {
        var h = SharedMemory.Allocate<float>(RankPass);
        int row = Grid.IdxX / shape.ChunksPerRow, chunk = Grid.IdxX % shape.ChunksPerRow, adapter = adapters[row];
        if (adapter == 0 && shape.Residual == 0) return;
        int part = 0, width = shape.Width0, offset = shape.Offset0;
        int chunks = (width + shape.ChunkWidth - 1) / shape.ChunkWidth;
        if (chunk >= chunks)
        {
            chunk -= chunks;
            part = 1;
            width = shape.Width1;
            offset = shape.Offset1;
            chunks = (width + shape.ChunkWidth - 1) / shape.ChunkWidth;
            if (chunk >= chunks)
            {
                chunk -= chunks;
                part = 2;
                width = shape.Width2;
                offset = shape.Offset2;
            }
        }
        int thread = Group.IdxX, threads = Group.DimX;
        long ys = (long)row * shape.OutputStride + offset;
        int start = chunk * shape.ChunkWidth, end = start + shape.ChunkWidth < width ? start + shape.ChunkWidth : width;
        if (adapter != 0)
        {
            int head = 2 * (shape.HeadsAt + part * shape.Slots + adapter);
            int first = heads[head], count = heads[head + 1];
            for (int j = 0; j < count; j++) AddUpdate(x, (long)row * shape.Inputs, shape.Inputs, updates[first + j], values, h, y, ys, width, start, end);
        }
        if (shape.Residual == 0) return;
        for (int o = start + thread; o < end; o += threads) residual[ys + o] = residual[ys + o] + y[ys + o];
    }

    /// <summary>y[ys + o] += s·Σ_k Bᵀ[k, o]·(A_k·x) for the group's columns o in [start, end), in passes of <see cref="RankPass"/> ranks.</summary>
    private static void AddUpdate(ArrayView<float> x, long xs, int inputs, AdapterUpdate update, ArrayView<float> values, ArrayView<float> h, ArrayView<float> y,
        long ys, int width, int start, int end)
    {
        int thread = Group.IdxX, threads = Group.DimX, lane = thread % MatrixKernels.RowLanes, dots = threads / MatrixKernels.RowLanes;
        for (int pass = 0; pass < update.Rank; pass += RankPass)
        {
            int passRanks = update.Rank - pass < RankPass ? update.Rank - pass : RankPass;
            for (int k0 = 0; k0 < passRanks; k0 += dots)
            {
                int k = k0 + thread / MatrixKernels.RowLanes;
                float chain = 0;
                if (k < passRanks)
                {
                    long a = update.A + (long)(pass + k) * inputs;
                    for (int i = lane; i < inputs; i += MatrixKernels.RowLanes) chain = DeviceNumbers.FusedMultiplyAdd(values[a + i], x[xs + i], chain);
                }
                float dot = MatrixKernels.RowTree(chain);
                if (k < passRanks && lane == 0) h[k] = update.Scale * dot;
            }
            Group.Barrier();
            for (int o = start + thread; o < end; o += threads)
            {
                float accumulated = y[ys + o];
                long b = update.BTransposed + (long)pass * width + o;
                for (int k = 0; k < passRanks; k++) accumulated = DeviceNumbers.FusedMultiplyAdd(h[k], values[b + (long)k * width], accumulated);
                y[ys + o] = accumulated;
            }
            Group.Barrier();
        }
    }
}

/// <summary>
/// One LoRA update as the device holds it: offsets of A (rank, inputs) and Bᵀ (rank, part width) in the adapters' value
/// pool, the rank and the scale s.
/// </summary>
internal struct AdapterUpdate
{
    public long A, BTransposed;
    public int Rank;
    public float Scale;
}

/// <summary>
/// One launch of <see cref="AdapterKernels.AddLowRank"/>: the product's input width, its output row stride, up to three
/// parts (offset, width; unused parts 0 wide), the columns a group covers and the groups per row, where the (layer,
/// product)'s heads start (HeadsAt, in (first, count) pairs, then part·Slots + adapter), and whether the output is then
/// added into the residual.
/// </summary>
internal struct AdapterShape
{
    public int Inputs, OutputStride, Offset0, Width0, Offset1, Width1, Offset2, Width2, ChunkWidth, ChunksPerRow, HeadsAt, Slots, Residual;
}
