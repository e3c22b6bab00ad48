using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// y[t, offset + r] (+)= Σ_c W[r, c]·x[t, c] for tokens t and weight rows r: the decode kernel (a warp per row, lanes
/// striding over 32-column chunks, a shuffle tree to finish) and the prefill kernel (16×16 output tiles, 16 rows of W
/// and 16 tokens of x staged in shared memory 32 columns at a time). Each output's sum runs in an order that does not
/// depend on how many tokens share the launch, so a token's logits do not depend on its batch (within one kernel).
/// </summary>
internal static class MatrixKernels
{
    /// <summary>Tokens up to which a step uses <see cref="MatrixVector{TWeights}"/>; larger steps use tiles.</summary>
    public const int DecodeTokens = 8;
    /// <summary>Warps per group of the decode kernel (one row each).</summary>
    public const int DecodeWarps = 4;
    /// <summary>Largest side of the prefill kernel's output tile (16 on GPUs; smaller where groups are smaller).</summary>
    public const int MaxTile = 16;

    /// <summary>
    /// One warp per weight row, every token in turn: the row streams from memory once and stays in cache for the
    /// next tokens. x is (tokens, columns); y is (tokens, yStride) and receives columns [yOffset, yOffset + rows).
    /// </summary>
    public static void MatrixVector<TWeights>(TWeights weights, ArrayView<float> x, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IWeightRows
    {
        int row = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (row >= shape.Rows) return;
        int lane = Warp.LaneIdx, chunks = shape.Columns / 32;
        for (int t = 0; t < shape.Tokens; t++)
        {
            float sum = 0;
            for (int c = lane; c < chunks; c += Warp.WarpSize) sum += weights.DotChunk(row, c, x, (long)t * shape.Columns);
            sum = DeviceNumbers.WarpSum(sum);
            if (lane == 0)
            {
                long at = (long)t * shape.OutputStride + shape.OutputOffset + row;
                y[at] = shape.Accumulate != 0 ? y[at] + sum : sum;
            }
        }
    }

    /// <summary>
    /// One group of T² threads per (T rows × T tokens) output tile, T = shape.Tile. Thread (r, t) of the tile sums
    /// W[r, c]·x[t, c] over c from shared memory; the tiles of W are dequantized on load.
    /// </summary>
    public static void MatrixMatrix<TWeights>(TWeights weights, ArrayView<float> x, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IWeightRows
    {
        // (T, 33) each: a 32-column slab per row, padded so column reads by consecutive rows miss bank conflicts.
        var w = SharedMemory.Allocate<float>(MaxTile * 33);
        var a = SharedMemory.Allocate<float>(MaxTile * 33);
        int tile = shape.Tile;
        int rowTiles = (shape.Rows + tile - 1) / tile;
        int row0 = Grid.IdxX % rowTiles * tile, token0 = Grid.IdxX / rowTiles * tile;
        int thread = Group.IdxX, r = thread % tile, t = thread / tile;
        float sum = 0;
        for (int c0 = 0; c0 < shape.Columns; c0 += 32)
        {
            for (int e = thread; e < tile * 32; e += tile * tile)
            {
                int i = e / 32, c = e % 32;
                w[i * 33 + c] = row0 + i < shape.Rows ? weights.Element(row0 + i, c0 + c) : 0;
                a[i * 33 + c] = token0 + i < shape.Tokens ? x[(long)(token0 + i) * shape.Columns + c0 + c] : 0;
            }
            Group.Barrier();
            for (int c = 0; c < 32; c++) sum += w[r * 33 + c] * a[t * 33 + c];
            Group.Barrier();
        }
        if (row0 + r < shape.Rows && token0 + t < shape.Tokens)
        {
            long at = (long)(token0 + t) * shape.OutputStride + shape.OutputOffset + row0 + r;
            y[at] = shape.Accumulate != 0 ? y[at] + sum : sum;
        }
    }
}

/// <summary>Sizes of one product: (tokens, columns) in, rows out at [offset, offset + rows) of rows of stride; accumulate ≠ 0 adds.</summary>
internal struct MatrixShape
{
    public int Tokens, Rows, Columns, OutputStride, OutputOffset, Accumulate, Tile;
}
