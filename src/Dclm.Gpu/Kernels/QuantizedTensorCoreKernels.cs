using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// The prefill product of <see cref="QuantizedMatrixKernels.MatrixMatrix{TWeights}"/> on tensor cores, with the same bits:
/// y[t, offset + r] (+)= Σ_c W[r, c]·x[t, c] for Q8_0/Q4_0 weights and Q8_0 activations, block b's exact integer sum
/// T_b coming from one <see cref="TensorCoreMultiply"/> (16 weight rows × 8 tokens × the block's 32 columns) and each
/// output keeping the CPU engine's arithmetic: chain j = fma(T_b, d_w[b]·d_a[b], chain j) over b ≡ j (mod 8) in
/// increasing b, finished as ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
/// </summary>
/// <remarks>
/// The chains are independent, so a warp runs them one after another (j = 0, 4, 2, 6, 1, 5, 3, 7, the order in which
/// the final tree's pairs complete) and keeps four floats per output instead of eight: the running chain and the
/// partial sums of the tree. Each block is still read once; it is visited in the order 0, 8, 16, …, 4, 12, ….
/// </remarks>
internal static class QuantizedTensorCoreKernels
{
    /// <summary>Rows of one warp's output tile (one A fragment).</summary>
    public const int WarpRows = 16;
    /// <summary>Tokens of one warp's output tile (two B fragments of 8 tokens sharing the A fragment).</summary>
    public const int WarpTokens = 16;
    /// <summary>Most warps in a group (128 threads on a GPU; the CPU accelerator's 64-thread groups hold 2).</summary>
    public const int MaxGroupWarps = 4;

    /// <summary>
    /// Warp w of group G computes output tile G·warps + w, tiles numbered row tile first (so a group's warps share their
    /// tokens' activations in cache). levels (tokens, columns/4) packed, scales (tokens, columns/32).
    /// </summary>
    public static void MatrixMatrix<TWeights>(TWeights weights, ArrayView<int> levels, ArrayView<float> scales, MatrixShape shape, ArrayView<float> y)
        where TWeights : struct, IQuantizedRows
    {
        var scratch = SharedMemory.Allocate<int>(MaxGroupWarps * TensorCoreMultiply.ScratchPerWarp);
        int warps = Group.DimX / TensorCoreMultiply.WarpWidth, warp = Group.IdxX / TensorCoreMultiply.WarpWidth;
        var warpScratch = scratch.SubView(warp * TensorCoreMultiply.ScratchPerWarp, TensorCoreMultiply.ScratchPerWarp);
        int lane = Group.IdxX % TensorCoreMultiply.WarpWidth, groupId = lane >> 2, threadInGroup = lane & 3;
        int blocks = shape.Columns / 32, rowTiles = (shape.Rows + WarpRows - 1) / WarpRows;
        int tile = Grid.IdxX * warps + warp;
        // A warp past the last tile still takes part (the CPU emulation synchronises the group), on zeros.
        bool active = tile < rowTiles * ((shape.Tokens + WarpTokens - 1) / WarpTokens);
        int row0 = tile % rowTiles * WarpRows, token0 = tile / rowTiles * WarpTokens;
        // A fragment rows g and g + 8; B fragment column g of either 8-token half; D columns 2t, 2t + 1 of either half.
        int rowLow = row0 + groupId, rowHigh = rowLow + 8, tokenFirst = token0 + groupId, tokenSecond = tokenFirst + 8;
        int tokenD = token0 + 2 * threadInGroup;
        bool lowIn = active && rowLow < shape.Rows, highIn = active && rowHigh < shape.Rows;
        bool firstIn = active && tokenFirst < shape.Tokens, secondIn = active && tokenSecond < shape.Tokens;
        ChainedSum low0 = default, low1 = default, high0 = default, high1 = default, low8 = default, low9 = default, high8 = default, high9 = default;
        for (int pass = 0; pass < 8; pass++)
        {
            int chain = ((pass & 1) << 2) | (pass & 2) | (pass >> 2); // pass's three bits reversed
            for (int b = chain; b < blocks; b += 8)
            {
                int a0 = lowIn ? weights.PackedLevels(rowLow, b, threadInGroup) : 0;
                int a1 = highIn ? weights.PackedLevels(rowHigh, b, threadInGroup) : 0;
                int a2 = lowIn ? weights.PackedLevels(rowLow, b, threadInGroup + 4) : 0;
                int a3 = highIn ? weights.PackedLevels(rowHigh, b, threadInGroup + 4) : 0;
                long first = ((long)tokenFirst * blocks + b) * 8, second = ((long)tokenSecond * blocks + b) * 8;
                var sumsFirst = TensorCoreMultiply.MultiplyAccumulate(a0, a1, a2, a3, firstIn ? levels[first + threadInGroup] : 0,
                    firstIn ? levels[first + 4 + threadInGroup] : 0, default, warpScratch);
                var sumsSecond = TensorCoreMultiply.MultiplyAccumulate(a0, a1, a2, a3, secondIn ? levels[second + threadInGroup] : 0,
                    secondIn ? levels[second + 4 + threadInGroup] : 0, default, warpScratch);
                float scaleLow = lowIn ? weights.Scale(rowLow, b) : 0, scaleHigh = highIn ? weights.Scale(rowHigh, b) : 0;
                float x0 = ActivationScale(scales, shape, blocks, active, tokenD, b), x1 = ActivationScale(scales, shape, blocks, active, tokenD + 1, b);
                float x8 = ActivationScale(scales, shape, blocks, active, tokenD + 8, b), x9 = ActivationScale(scales, shape, blocks, active, tokenD + 9, b);
                low0 = low0.Add(ExactSingle(sumsFirst.X), scaleLow * x0);
                low1 = low1.Add(ExactSingle(sumsFirst.Y), scaleLow * x1);
                high0 = high0.Add(ExactSingle(sumsFirst.Z), scaleHigh * x0);
                high1 = high1.Add(ExactSingle(sumsFirst.W), scaleHigh * x1);
                low8 = low8.Add(ExactSingle(sumsSecond.X), scaleLow * x8);
                low9 = low9.Add(ExactSingle(sumsSecond.Y), scaleLow * x9);
                high8 = high8.Add(ExactSingle(sumsSecond.Z), scaleHigh * x8);
                high9 = high9.Add(ExactSingle(sumsSecond.W), scaleHigh * x9);
            }
            low0 = low0.EndChain(pass);
            low1 = low1.EndChain(pass);
            high0 = high0.EndChain(pass);
            high1 = high1.EndChain(pass);
            low8 = low8.EndChain(pass);
            low9 = low9.EndChain(pass);
            high8 = high8.EndChain(pass);
            high9 = high9.EndChain(pass);
        }
        if (!active) return;
        Store(y, shape, rowLow, tokenD, low0.Total);
        Store(y, shape, rowLow, tokenD + 1, low1.Total);
        Store(y, shape, rowHigh, tokenD, high0.Total);
        Store(y, shape, rowHigh, tokenD + 1, high1.Total);
        Store(y, shape, rowLow, tokenD + 8, low8.Total);
        Store(y, shape, rowLow, tokenD + 9, low9.Total);
        Store(y, shape, rowHigh, tokenD + 8, high8.Total);
        Store(y, shape, rowHigh, tokenD + 9, high9.Total);
    }

    /// <summary>
    /// The int T as a float, exactly, for |T| &lt; 2^22 (a block sum is at most 32·128·128 = 2^19 in magnitude): 1.5·2^23 has a last
    /// place of 1, so its bits plus T are the float 1.5·2^23 + T, and subtracting 1.5·2^23 is exact. An integer add and a
    /// float add instead of a conversion, which GPUs issue at a fraction of their add rate.
    /// </summary>
    internal static float ExactSingle(int term) => Interop.IntAsFloat((uint)(term + 0x4B400000)) - 12582912f;

    /// <summary>d_a of block <paramref name="block"/> of <paramref name="token"/>, 0 past the last token.</summary>
    private static float ActivationScale(ArrayView<float> scales, MatrixShape shape, int blocks, bool active, int token, int block) =>
        active && token < shape.Tokens ? scales[(long)token * blocks + block] : 0;

    private static void Store(ArrayView<float> y, MatrixShape shape, int row, int token, float sum)
    {
        if (row >= shape.Rows || token >= shape.Tokens) return;
        long at = (long)token * shape.OutputStride + shape.OutputOffset + row;
        y[at] = shape.Accumulate != 0 ? y[at] + sum : sum;
    }
}

/// <summary>
/// One output's sum in the CPU engine's order, its eight chains run one at a time in the order 0, 4, 2, 6, 1, 5, 3, 7:
/// that sequence reduced pairwise as it comes (a binary counter, one partial per tree level) is exactly
/// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
/// </summary>
internal struct ChainedSum
{
    /// <summary>The running chain: fma(T_b, c_b, chain) for its blocks so far.</summary>
    public float Chain;
    /// <summary>Partials of the tree: a finished chain, a finished pair, a finished four.</summary>
    public float Level0, Level1, Level2;
    /// <summary>The output, after the eighth chain.</summary>
    public float Total;

    /// <summary>chain = fma(T_b, c_b, chain), T_b given as a float (exact).</summary>
    public readonly ChainedSum Add(float term, float combined)
    {
        var next = this;
        next.Chain = DeviceNumbers.FusedMultiplyAdd(term, combined, Chain);
        return next;
    }

    /// <summary>Folds the chain finished in pass <paramref name="pass"/> (0..7) into the tree and starts the next at 0.</summary>
    public readonly ChainedSum EndChain(int pass)
    {
        var next = this;
        next.Chain = 0;
        float value = Chain;
        if ((pass & 1) == 0) { next.Level0 = value; return next; }
        value = Level0 + value;
        if ((pass & 2) == 0) { next.Level1 = value; return next; }
        value = Level1 + value;
        if ((pass & 4) == 0) { next.Level2 = value; return next; }
        next.Total = Level2 + value;
        return next;
    }
}
