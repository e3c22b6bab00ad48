using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// The f16/bf16 prefill product on tensor cores: y[t, offset + r] (+)= Σ_c W[r, c]·x[t, c] with the weights as they are
/// uploaded (pairs in uints) and each f32 activation split into parts of the weight's type, x·s = p_0 + p_1 (+ p_2)
/// (<see cref="Split{TFormat}"/>), one <see cref="IHalfTensorFormat.MultiplyAccumulate"/> per part into the same f32
/// accumulator, and y = D / s (s a power of two, exact).
/// </summary>
/// <remarks>
/// Error. Each part product is exact in f32, so the only errors are the activation's representation and the f32
/// accumulation. f16, two parts: |x − (p_0 + p_1)/s| ≤ 2^-22·|x| + 2^-25/s, where s puts the row's largest |x| in
/// [2^14, 2^15), i.e. ≤ 2^-22·|x| + 2^-39·max|x|. bf16, three parts: exact (8 + 8 + 8 significant bits) unless a part
/// falls below f32's normal range. The accumulation adds 16·parts exact products per 16 columns in f32, in an order the
/// hardware fixes (the ISA leaves it open): like any f32 sum of n = parts·columns terms, within about
/// n·2^-24·Σ_c |W[r, c]·x[t, c]| in the worst case (the FMA tile kernel's bound has n = columns). Each output depends only on
/// its own row of W and its own token's parts and scale, summed in a fixed order (32-column chunks in order, the parts in
/// order, two mma per part), so a token's result does not depend on the other tokens of its launch.
/// </remarks>
internal static class HalfTensorCoreKernels
{
    /// <summary>Rows of one warp's output tile (one A fragment).</summary>
    public const int WarpRows = 16;
    /// <summary>Tokens of one warp's output tile (two B fragments of 8 tokens sharing the A fragment).</summary>
    public const int WarpTokens = 16;
    /// <summary>Most warps in a group (128 threads on a GPU; the CPU accelerator's 64-thread groups hold 2).</summary>
    public const int MaxGroupWarps = 4;
    /// <summary>Most threads per group of <see cref="Split{TFormat}"/> (a power of two).</summary>
    public const int SplitThreads = 128;

    /// <summary>
    /// One group per token t: s = 1, or for formats that scale rows 2^(141 − E) with E the f32 exponent field of
    /// max_c |x[t, c]| (at least 15), which puts the largest magnitude in [2^14, 2^15); then x·s (exact) is split as
    /// p_0 = round(x·s), p_1 = round(x·s − p_0), … (each difference exact in f32). parts (parts, tokens, columns/2) as pairs
    /// in uints (column 2i in the low half), inverseScales (tokens) = 1/s.
    /// </summary>
    public static void Split<TFormat>(ArrayView<float> x, MatrixShape shape, ArrayView<uint> parts, ArrayView<float> inverseScales)
        where TFormat : struct, IHalfTensorFormat
    {
        var partial = SharedMemory.Allocate<float>(SplitThreads);
        var format = default(TFormat);
        int token = Grid.IdxX, lane = Group.IdxX, threads = Group.DimX, pairs = shape.Columns / 2;
        long row = (long)token * shape.Columns;
        float scale = 1, inverse = 1;
        if (format.ScalesRows())
        {
            float largest = 0;
            for (int c = lane; c < shape.Columns; c += threads)
            {
                float v = x[row + c];
                v = v < 0 ? -v : v;
                largest = v > largest ? v : largest;
            }
            int exponent = (int)((Interop.FloatAsInt(GroupMax(partial, largest, lane)) >> 23) & 0xFF);
            exponent = exponent < 15 ? 15 : exponent;
            scale = Interop.IntAsFloat((uint)(268 - exponent) << 23);
            inverse = Interop.IntAsFloat((uint)(exponent - 14) << 23);
        }
        long partStride = (long)shape.Tokens * pairs;
        for (int i = lane; i < pairs; i += threads)
        {
            float first = DeviceNumbers.Multiply(x[row + 2 * i], scale), second = DeviceNumbers.Multiply(x[row + 2 * i + 1], scale);
            long at = (long)token * pairs + i;
            for (int p = 0; p < format.Parts(); p++)
            {
                uint low = format.Round(first), high = format.Round(second);
                parts[p * partStride + at] = low | (high << 16);
                first = DeviceNumbers.Subtract(first, format.Widen(low));
                second = DeviceNumbers.Subtract(second, format.Widen(high));
            }
        }
        if (lane == 0) inverseScales[token] = inverse;
    }

    /// <summary>
    /// Warp w of group G computes output tile G·warps + w, tiles numbered row tile first (a group's warps share their
    /// tokens' parts in cache). Per 32-column chunk, lane (g, t) loads 16 bytes of weight row g and of row g + 8 (columns
    /// 8t..8t + 7 of the chunk, as four pairs) and of each part of tokens g and g + 8, and gives the pairs to two mma: the
    /// first takes pairs 0 and 1 as its k = 2t, 2t + 1 and 2t + 8, 2t + 9, the second pairs 2 and 3. A and B number the
    /// chunk's columns the same way, so each mma sums 16 distinct columns and the two together all 32.
    /// weights (rows, columns/2), parts and inverseScales as <see cref="Split{TFormat}"/> writes them.
    /// </summary>
    public static void MatrixMatrix<TFormat>(ArrayView<uint> weights, ArrayView<uint> parts, ArrayView<float> inverseScales, MatrixShape shape,
        ArrayView<float> y)
        where TFormat : struct, IHalfTensorFormat
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroupWarps * HalfTensorCoreMultiply.ScratchPerWarp);
        var format = default(TFormat);
        int warps = Group.DimX / TensorCoreMultiply.WarpWidth, warp = Group.IdxX / TensorCoreMultiply.WarpWidth;
        var warpScratch = scratch.SubView(warp * HalfTensorCoreMultiply.ScratchPerWarp, HalfTensorCoreMultiply.ScratchPerWarp);
        int lane = Group.IdxX % TensorCoreMultiply.WarpWidth, groupId = lane >> 2, threadInGroup = lane & 3;
        int chunks = shape.Columns / 32, rowTiles = (shape.Rows + WarpRows - 1) / WarpRows;
        int tile = Grid.IdxX * warps + warp;
        // A warp past the last tile still takes part (the CPU emulation synchronises the group), on zeros.
        bool active = tile < rowTiles * ((shape.Tokens + WarpTokens - 1) / WarpTokens);
        int row0 = tile % rowTiles * WarpRows, token0 = tile / rowTiles * WarpTokens;
        int rowLow = row0 + groupId, rowHigh = rowLow + 8, tokenFirst = token0 + groupId, tokenSecond = tokenFirst + 8;
        int tokenD = token0 + 2 * threadInGroup;
        bool lowIn = active && rowLow < shape.Rows, highIn = active && rowHigh < shape.Rows;
        bool firstIn = active && tokenFirst < shape.Tokens, secondIn = active && tokenSecond < shape.Tokens;
        // 16-byte quads: a row of W or of a part is columns/8 of them; chunk k's quad for lane t is 4k + t.
        var weightQuads = weights.Cast<UInt4>();
        var partQuads = parts.Cast<UInt4>();
        long quadsPerRow = shape.Columns / 8, partStride = shape.Tokens * quadsPerRow;
        long lowAt = rowLow * quadsPerRow + threadInGroup, highAt = rowHigh * quadsPerRow + threadInGroup;
        long firstAt = tokenFirst * quadsPerRow + threadInGroup, secondAt = tokenSecond * quadsPerRow + threadInGroup;
        Float4 first = default, second = default;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            UInt4 low = lowIn ? weightQuads[lowAt + 4 * chunk] : default;
            UInt4 high = highIn ? weightQuads[highAt + 4 * chunk] : default;
            for (int p = 0; p < format.Parts(); p++)
            {
                UInt4 x0 = firstIn ? partQuads[p * partStride + firstAt + 4 * chunk] : default;
                UInt4 x8 = secondIn ? partQuads[p * partStride + secondAt + 4 * chunk] : default;
                first = format.MultiplyAccumulate(low.X, high.X, low.Y, high.Y, x0.X, x0.Y, first, warpScratch);
                first = format.MultiplyAccumulate(low.Z, high.Z, low.W, high.W, x0.Z, x0.W, first, warpScratch);
                second = format.MultiplyAccumulate(low.X, high.X, low.Y, high.Y, x8.X, x8.Y, second, warpScratch);
                second = format.MultiplyAccumulate(low.Z, high.Z, low.W, high.W, x8.Z, x8.W, second, warpScratch);
            }
        }
        if (!active) return;
        // D: c0, c1 at row g, tokens 2t and 2t + 1 of the half; c2, c3 at row g + 8.
        Store(y, inverseScales, shape, rowLow, tokenD, first.X);
        Store(y, inverseScales, shape, rowLow, tokenD + 1, first.Y);
        Store(y, inverseScales, shape, rowHigh, tokenD, first.Z);
        Store(y, inverseScales, shape, rowHigh, tokenD + 1, first.W);
        Store(y, inverseScales, shape, rowLow, tokenD + 8, second.X);
        Store(y, inverseScales, shape, rowLow, tokenD + 9, second.Y);
        Store(y, inverseScales, shape, rowHigh, tokenD + 8, second.Z);
        Store(y, inverseScales, shape, rowHigh, tokenD + 9, second.W);
    }

    private static void Store(ArrayView<float> y, ArrayView<float> inverseScales, MatrixShape shape, int row, int token, float sum)
    {
        if (row >= shape.Rows || token >= shape.Tokens) return;
        long at = (long)token * shape.OutputStride + shape.OutputOffset + row;
        float value = DeviceNumbers.Multiply(sum, inverseScales[token]);
        y[at] = shape.Accumulate != 0 ? y[at] + value : value;
    }

    /// <summary>The group's largest <paramref name="value"/> by a fixed tree in shared memory, in every thread (group size a power of two).</summary>
    private static float GroupMax(ArrayView<float> partial, float value, int lane)
    {
        partial[lane] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride /= 2)
        {
            if (lane < stride && partial[lane + stride] > partial[lane]) partial[lane] = partial[lane + stride];
            Group.Barrier();
        }
        float largest = partial[0];
        Group.Barrier();
        return largest;
    }
}
