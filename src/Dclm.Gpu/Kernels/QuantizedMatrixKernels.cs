using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// y[t, offset + r] (+)= Σ_c W[r, c]·x[t, c] for Q8_0/Q4_0 weights W and activations x quantized to Q8_0, in the CPU
/// engine's arithmetic (Dclm.Tensors BlockGroups) so both engines give the same bits for the same inputs: block b's exact
/// integer sum T_b, its combined scale c_b = d_w[b]·d_a[b], chain b mod 8 updated as chain = fma(T_b, c_b, chain) in
/// increasing b, and the chains finished as ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
/// </summary>
/// <remarks>
/// Why bit-exact: a quantized product reads activations rounded to Q8_0 levels, and a level flips when its input moves
/// across a rounding boundary, so one ulp of difference upstream can move a logit by 1e-2 of its row's largest (the
/// Llama q4_0 conformance case did exactly that when the prefill tiles summed W·x in another order than the decode
/// kernel). With the CPU's arithmetic a token's products do not depend on the kernel, the batch or the device.
/// </remarks>
internal static class QuantizedMatrixKernels
{
    /// <summary>
    /// Eight lanes per weight row (<see cref="MatrixKernels.RowLanes"/>), so W/8 rows per warp of width W, every token in
    /// turn (the rows stay in cache). Lane i of a row owns chain i: it takes blocks i, i + 8, i + 16, ... in increasing
    /// order, which is exactly chain i's order, so the chains need no shuffles until the final tree, and lanes i of the
    /// warp's rows read the same activation block in the same instruction (one load serves W/8 rows). Four blocks are
    /// loaded before their chain updates so several loads are in flight per lane. levels (tokens, columns/4) packed,
    /// scales (tokens, columns/32).
    /// </summary>
    public static void MatrixVector<TWeights>(TWeights weights, ArrayView<int> levels, ArrayView<float> scales, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IQuantizedRows
    {
        int lane = Warp.LaneIdx, chainIndex = lane % MatrixKernels.RowLanes, blocks = shape.Columns / 32;
        int row = MatrixKernels.DecodeRow();
        bool inside = row < shape.Rows;
        var wide = levels.Cast<Int4>();
        for (int t = 0; t < shape.Tokens; t++)
        {
            long first = (long)t * blocks;
            float chain = 0;
            if (inside)
            {
                int b = chainIndex;
                for (; b + 24 < blocks; b += 32)
                {
                    int term0 = weights.BlockSum(row, b, wide, first + b), term1 = weights.BlockSum(row, b + 8, wide, first + b + 8);
                    int term2 = weights.BlockSum(row, b + 16, wide, first + b + 16), term3 = weights.BlockSum(row, b + 24, wide, first + b + 24);
                    float combined0 = weights.Scale(row, b) * scales[first + b], combined1 = weights.Scale(row, b + 8) * scales[first + b + 8];
                    float combined2 = weights.Scale(row, b + 16) * scales[first + b + 16], combined3 = weights.Scale(row, b + 24) * scales[first + b + 24];
                    chain = DeviceNumbers.FusedMultiplyAdd(term0, combined0, chain);
                    chain = DeviceNumbers.FusedMultiplyAdd(term1, combined1, chain);
                    chain = DeviceNumbers.FusedMultiplyAdd(term2, combined2, chain);
                    chain = DeviceNumbers.FusedMultiplyAdd(term3, combined3, chain);
                }
                for (; b < blocks; b += 8)
                    chain = DeviceNumbers.FusedMultiplyAdd(weights.BlockSum(row, b, wide, first + b), weights.Scale(row, b) * scales[first + b], chain);
            }
            float sum = MatrixKernels.RowTree(chain);
            if (inside && chainIndex == 0)
            {
                long at = (long)t * shape.OutputStride + shape.OutputOffset + row;
                y[at] = shape.Accumulate != 0 ? y[at] + sum : sum;
            }
        }
    }

    /// <summary>
    /// One group of T² threads per (T rows × T tokens) output tile, T = shape.Tile: block by block, the tile's weight and
    /// activation levels are staged in shared memory as floats and thread (r, t) sums their products (integers below
    /// 2^24, so exact in any order) into T_b, then updates its chain b mod 8.
    /// </summary>
    public static void MatrixMatrix<TWeights>(TWeights weights, ArrayView<int> levels, ArrayView<float> scales, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IQuantizedRows
    {
        // (T, 33) each: one block's 32 levels per row or token, padded so reads by consecutive rows miss bank conflicts.
        var w = SharedMemory.Allocate<float>(MatrixKernels.MaxTile * 33);
        var a = SharedMemory.Allocate<float>(MatrixKernels.MaxTile * 33);
        int tile = shape.Tile, blocks = shape.Columns / 32;
        int rowTiles = (shape.Rows + tile - 1) / tile;
        int row0 = Grid.IdxX % rowTiles * tile, token0 = Grid.IdxX / rowTiles * tile;
        int thread = Group.IdxX, r = thread % tile, t = thread / tile;
        bool inside = row0 + r < shape.Rows && token0 + t < shape.Tokens;
        float l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
        for (int b = 0; b < blocks; b++)
        {
            for (int e = thread; e < tile * 32; e += tile * tile)
            {
                int i = e / 32, c = e % 32;
                w[i * 33 + c] = row0 + i < shape.Rows ? weights.Level(row0 + i, b * 32 + c) : 0;
                a[i * 33 + c] = token0 + i < shape.Tokens ? (sbyte)(levels[((long)(token0 + i) * blocks + b) * 8 + c / 4] >> (8 * (c % 4))) : 0;
            }
            Group.Barrier();
            float term = 0;
            // Exact integers either way; Multiply leaves ptxas nothing to contract and costs the CPU accelerator nothing.
            for (int c = 0; c < 32; c++) term += DeviceNumbers.Multiply(w[r * 33 + c], a[t * 33 + c]);
            float combined = inside ? weights.Scale(row0 + r, b) * scales[(long)(token0 + t) * blocks + b] : 0;
            switch (b & 7)
            {
                case 0: l0 = DeviceNumbers.FusedMultiplyAdd(term, combined, l0); break;
                case 1: l1 = DeviceNumbers.FusedMultiplyAdd(term, combined, l1); break;
                case 2: l2 = DeviceNumbers.FusedMultiplyAdd(term, combined, l2); break;
                case 3: l3 = DeviceNumbers.FusedMultiplyAdd(term, combined, l3); break;
                case 4: l4 = DeviceNumbers.FusedMultiplyAdd(term, combined, l4); break;
                case 5: l5 = DeviceNumbers.FusedMultiplyAdd(term, combined, l5); break;
                case 6: l6 = DeviceNumbers.FusedMultiplyAdd(term, combined, l6); break;
                default: l7 = DeviceNumbers.FusedMultiplyAdd(term, combined, l7); break;
            }
            Group.Barrier();
        }
        if (inside)
        {
            float sum = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
            long at = (long)(token0 + t) * shape.OutputStride + shape.OutputOffset + row0 + r;
            y[at] = shape.Accumulate != 0 ? y[at] + sum : sum;
        }
    }
}
