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
    /// One warp per weight row, every token in turn (the row stays in cache). Each pass of the warp takes W consecutive
    /// blocks (W the warp width, a multiple of 8), one per lane; lanes 0..7 then fold the pass's blocks into the eight
    /// chains in order through shuffles. levels (tokens, columns/4) packed, scales (tokens, columns/32).
    /// </summary>
    public static void MatrixVector<TWeights>(TWeights weights, ArrayView<int> levels, ArrayView<float> scales, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IQuantizedRows
    {
        int row = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (row >= shape.Rows) return;
        int lane = Warp.LaneIdx, width = Warp.WarpSize, blocks = shape.Columns / 32;
        var wide = levels.Cast<Int4>();
        for (int t = 0; t < shape.Tokens; t++)
        {
            long first = (long)t * blocks;
            float chain = 0;
            for (int b0 = 0; b0 < blocks; b0 += width)
            {
                int b = b0 + lane;
                float term = 0, combined = 0;
                if (b < blocks)
                {
                    term = weights.BlockSum(row, b, wide, first + b);
                    combined = weights.Scale(row, b) * scales[first + b];
                }
                for (int k = 0; k < width; k += 8)
                {
                    float termK = Warp.Shuffle(term, lane % 8 + k), combinedK = Warp.Shuffle(combined, lane % 8 + k);
                    if (lane < 8 && b0 + k + lane < blocks) chain = DeviceNumbers.FusedMultiplyAdd(termK, combinedK, chain);
                }
            }
            // h_i = l_i + l_(i+4) in lanes 0..3, then (h0 + h2) + (h1 + h3) in lane 0.
            float h = chain + Warp.ShuffleDown(chain, 4);
            float pair = h + Warp.ShuffleDown(h, 2);
            float sum = pair + Warp.ShuffleDown(pair, 1);
            if (lane == 0)
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
            for (int c = 0; c < 32; c++) term += w[r * 33 + c] * a[t * 33 + c];
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
