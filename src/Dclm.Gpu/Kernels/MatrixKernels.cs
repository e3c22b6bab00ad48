using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// y[t, offset + r] (+)= Σ_c W[r, c]·x[t, c] for tokens t and weight rows r: the decode kernel (eight lanes per row,
/// each striding over 32-column chunks, a shuffle tree to finish) and the prefill kernel (16×16 output tiles, 16 rows of W
/// and 16 tokens of x staged in shared memory 32 columns at a time). Each output's sum runs in an order that does not
/// depend on how many tokens share the launch, so a token's logits do not depend on its batch (within one kernel).
/// </summary>
/// <remarks>
/// Every multiply-add is an explicit fma (<see cref="DeviceNumbers.FusedMultiplyAdd"/>, fma.rn.f32): the CPU engine's
/// float dot products (DotFloat) accumulate by fma as well, a GPU issues one FFMA where a product and a sum take an FMUL
/// and an FADD, and, unlike a plain sum += w·x, which ptxas may or may not contract, it is the arithmetic the CPU
/// accelerator runs in the tests (emulated there, in double; these kernels serve only f32/f16/bf16 weights).
/// </remarks>
internal static class MatrixKernels
{
    /// <summary>Tokens up to which a step uses <see cref="MatrixVector{TWeights}"/>; larger steps use tiles.</summary>
    public const int DecodeTokens = 8;
    /// <summary>Warps per group of the decode kernels (W/8 rows each, W the warp width).</summary>
    public const int DecodeWarps = 4;
    /// <summary>
    /// Lanes per weight row in the decode kernels: eight, one per chain of the quantized products' arithmetic, so a row's
    /// sum does not depend on the warp width and one activation load serves the W/8 rows of a warp.
    /// </summary>
    public const int RowLanes = 8;
    /// <summary>Largest side of the prefill kernel's output tile (16 on GPUs; smaller where groups are smaller).</summary>
    public const int MaxTile = 16;

    /// <summary>
    /// Eight lanes per weight row (W/8 rows per warp), every token in turn: the rows stream from memory once and stay
    /// in cache for the next tokens, and lanes i of the warp's rows read the same activation chunk in one instruction.
    /// Lane i sums chunks i, i + 8, i + 16, ... in increasing order (two loaded before they are added), then
    /// <see cref="RowTree"/> adds the eight lanes. x is (tokens, columns); y is (tokens, yStride) and receives columns
    /// [yOffset, yOffset + rows).
    /// </summary>
    public static void MatrixVector<TWeights>(TWeights weights, ArrayView<float> x, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IWeightRows
    {
        int chunkLane = Warp.LaneIdx % RowLanes, chunks = shape.Columns / 32;
        int row = DecodeRow();
        bool inside = row < shape.Rows;
        for (int t = 0; t < shape.Tokens; t++)
        {
            long offset = (long)t * shape.Columns;
            float sum = 0;
            if (inside)
            {
                int c = chunkLane;
                for (; c + 8 < chunks; c += 16)
                {
                    float first = weights.DotChunk(row, c, x, offset), second = weights.DotChunk(row, c + 8, x, offset);
                    sum += first;
                    sum += second;
                }
                if (c < chunks) sum += weights.DotChunk(row, c, x, offset);
            }
            sum = RowTree(sum);
            if (inside && chunkLane == 0)
            {
                long at = (long)t * shape.OutputStride + shape.OutputOffset + row;
                y[at] = shape.Accumulate != 0 ? y[at] + sum : sum;
            }
        }
    }

    /// <summary>The weight row of this lane in a decode kernel: lanes 8k..8k+7 of a warp share row k of the warp's W/8.</summary>
    public static int DecodeRow() =>
        (Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx) * (Warp.WarpSize / RowLanes) + Warp.LaneIdx / RowLanes;

    /// <summary>
    /// The fixed tree over a row's eight lanes l0..l7, in its first lane: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)),
    /// the CPU engine's finish of its eight quantized chains. Every lane of the warp must call it.
    /// </summary>
    public static float RowTree(float value)
    {
        float half = value + Warp.ShuffleDown(value, 4);
        float pair = half + Warp.ShuffleDown(half, 2);
        return pair + Warp.ShuffleDown(pair, 1);
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
            for (int c = 0; c < 32; c++) sum = DeviceNumbers.FusedMultiplyAdd(w[r * 33 + c], a[t * 33 + c], sum);
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
