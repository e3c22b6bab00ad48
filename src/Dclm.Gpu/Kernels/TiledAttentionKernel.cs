using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// Causal attention with keys and values staged in shared memory, shared by a tile of query rows. A group of
/// <see cref="Threads"/> threads takes a tile (some tokens of one sequence, listed by the host) × a block of query heads
/// that share one KV head (× a split of the context in flash-decoding steps); its rows are (token, head) pairs, at most
/// <see cref="MaxRows"/>. The group walks the union of its rows' visible positions in chunks of
/// <see cref="AttentionShape.ChunkLength"/> positions on an absolute grid (chunk c = [c·P, (c + 1)·P)): it copies the chunk's
/// keys into shared memory with coalesced 16-byte loads (rows padded by <see cref="AttentionShape.ThreadsPerDot"/> floats
/// so the dot's lanes hit distinct banks), scores s = q·k/√d − slope·(i − p) for every (row, position), folds them into each
/// row's online softmax (running max m, denominator l, a warp per row), copies the chunk's values over the keys and
/// accumulates acc ← acc·e^(m_old − m) + Σ_p e^(s_p − m)·v_p. A row skips chunks outside its own range and masks the
/// rest of it, and every sum's order is fixed by the chunk grid, the row's range and the launch constants alone, so a
/// row's result does not depend on which rows share its tile or batch. Without splits the group writes out = acc / l;
/// with splits it writes (acc, m, l) per (token, head, split) for <see cref="AttentionKernel.Combine"/>.
/// </summary>
internal static class TiledAttentionKernel
{
    /// <summary>Threads per group on a GPU (four warps); smaller accelerators use their largest group.</summary>
    public const int Threads = 128;
    /// <summary>Most query rows (token, head) a tile holds.</summary>
    public const int MaxRows = 16;
    /// <summary>Floats of the shared query and accumulator buffers: <see cref="MaxRows"/> rows of width 128 (8 of 256).</summary>
    public const int RowFloats = MaxRows * 128;
    /// <summary>Floats of the shared key/value chunk: 32 positions of width 128 padded by 4 (16 of 256 padded by 8).</summary>
    public const int ChunkFloats = 32 * 132;
    /// <summary>Floats of the shared score buffer: rows × chunk positions.</summary>
    public const int ScoreFloats = MaxRows * 32;

    /// <summary>
    /// Group g = (tile·blocks + b)·splits + s, with tiles[2·tile] the tile's first token and tiles[2·tile + 1] its token count,
    /// b the block of <see cref="AttentionShape.HeadBlock"/> query heads; writes attention (tokens, heads·d) or, with
    /// <see cref="AttentionShape.Partials"/>, partials (tokens, heads, splits, d + 2).
    /// </summary>
    public static void Attend(ArrayView<float> qkv, ArrayView<float> keys, ArrayView<float> values, ArrayView<int> tables,
        ArrayView<int> tokenTables, ArrayView<int> positions, ArrayView<float> slopes, ArrayView<int> tiles, AttentionShape shape, ArrayView<float> output)
    {
        var query = SharedMemory.Allocate<float>(RowFloats);
        var accumulator = SharedMemory.Allocate<float>(RowFloats);
        var chunk = SharedMemory.Allocate<float>(ChunkFloats);
        var scores = SharedMemory.Allocate<float>(ScoreFloats);
        var rowFrom = SharedMemory.Allocate<int>(MaxRows);
        var rowTo = SharedMemory.Allocate<int>(MaxRows);
        var rowMax = SharedMemory.Allocate<float>(MaxRows);
        var rowSum = SharedMemory.Allocate<float>(MaxRows);
        var rowScale = SharedMemory.Allocate<float>(MaxRows);

        int d = shape.HeadDim, length = shape.ChunkLength, headBlock = shape.HeadBlock, blocks = shape.Heads / headBlock;
        int split = Grid.IdxX % shape.Splits, rest = Grid.IdxX / shape.Splits;
        int firstHead = rest % blocks * headBlock, tile = rest / blocks;
        int firstToken = tiles[2 * tile], rows = tiles[2 * tile + 1] * headBlock;
        int kvHead = firstHead / (shape.Heads / shape.KeyValueHeads);
        long table = (long)tokenTables[firstToken] * shape.TableWidth;

        // Row r is token firstToken + r / headBlock, head firstHead + r % headBlock; its range in this split is [from, to].
        for (int r = Group.IdxX; r < rows; r += Group.DimX)
        {
            int position = positions[firstToken + r / headBlock], first = AttentionKernel.First(position, shape);
            int from = shape.Partials != 0 ? first + split * shape.SplitLength : first;
            rowFrom[r] = from;
            rowTo[r] = shape.Partials != 0 ? Math.Min(position, from + shape.SplitLength - 1) : position;
            rowMax[r] = float.NegativeInfinity;
            rowSum[r] = 0;
        }
        for (int o = Group.IdxX; o < rows * d; o += Group.DimX)
        {
            int r = o / d;
            query[o] = qkv[(long)(firstToken + r / headBlock) * shape.Stride + (firstHead + r % headBlock) * d + o % d];
            accumulator[o] = 0;
        }
        Group.Barrier();
        int lo = int.MaxValue, hi = -1;
        for (int r = 0; r < rows; r++)
            if (rowFrom[r] <= rowTo[r])
            {
                lo = Math.Min(lo, rowFrom[r]);
                hi = Math.Max(hi, rowTo[r]);
            }
        if (hi < 0) return; // every row's range lies past its context in this split (the same for the whole group)

        for (int p0 = lo / length * length; p0 <= hi; p0 += length)
        {
            int loadFrom = Math.Max(p0, lo), loadTo = Math.Min(p0 + length - 1, hi);
            Stage(keys, tables, table, kvHead, loadFrom, loadTo, p0, shape, chunk);
            Group.Barrier();
            Score(query, chunk, positions, slopes, rowFrom, rowTo, shape, firstToken, firstHead, rows, p0, loadFrom, loadTo, scores);
            Group.Barrier();
            Softmax(rowFrom, rowTo, rows, p0, length, scores, rowMax, rowSum, rowScale);
            Stage(values, tables, table, kvHead, loadFrom, loadTo, p0, shape, chunk);
            Group.Barrier();
            Accumulate(chunk, scores, rowFrom, rowTo, rowScale, shape, rows, p0, accumulator);
            Group.Barrier();
        }
        Finish(accumulator, rowFrom, rowTo, rowMax, rowSum, shape, firstToken, firstHead, rows, split, output);
    }

    /// <summary>acc_r ← acc_r·rowScale_r + Σ_p e_(r,p)·v_p over row r's positions in the chunk, in position order (rows the chunk misses are left alone).</summary>
    private static void Accumulate(ArrayView<float> chunk, ArrayView<float> scores, ArrayView<int> rowFrom, ArrayView<int> rowTo, ArrayView<float> rowScale,
        AttentionShape shape, int rows, int p0, ArrayView<float> accumulator)
    {
        int d = shape.HeadDim, length = shape.ChunkLength;
        for (int o = Group.IdxX; o < rows * d; o += Group.DimX)
        {
            int r = o / d, j = o % d;
            int from = Math.Max(rowFrom[r], p0), to = Math.Min(rowTo[r], p0 + length - 1);
            if (from > to) continue;
            float sum = DeviceNumbers.Multiply(accumulator[o], rowScale[r]);
            for (int p = from; p <= to; p++) sum += DeviceNumbers.Multiply(scores[r * length + p - p0], chunk[(p - p0) * shape.KeyStride + j]);
            accumulator[o] = sum;
        }
    }

    /// <summary>Writes each row's out = acc / l, or with splits its partial (acc, m, l) when its range in the split is not empty.</summary>
    private static void Finish(ArrayView<float> accumulator, ArrayView<int> rowFrom, ArrayView<int> rowTo, ArrayView<float> rowMax, ArrayView<float> rowSum,
        AttentionShape shape, int firstToken, int firstHead, int rows, int split, ArrayView<float> output)
    {
        int d = shape.HeadDim;
        for (int o = Group.IdxX; o < rows * d; o += Group.DimX)
        {
            int r = o / d, j = o % d, t = firstToken + r / shape.HeadBlock, h = firstHead + r % shape.HeadBlock;
            if (shape.Partials == 0)
            {
                output[(long)t * shape.Heads * d + h * d + j] = accumulator[o] / rowSum[r];
                continue;
            }
            if (rowFrom[r] > rowTo[r]) continue;
            long partial = ((long)(t * shape.Heads + h) * shape.Splits + split) * (d + 2);
            output[partial + j] = accumulator[o];
            if (j == 0)
            {
                output[partial + d] = rowMax[r];
                output[partial + d + 1] = rowSum[r];
            }
        }
    }

    /// <summary>
    /// Copies positions [from, to] of the KV head's keys or values into chunk row p − p0 (stride
    /// <see cref="AttentionShape.KeyStride"/>): consecutive threads read consecutive 16-byte pieces of a position's row.
    /// </summary>
    private static void Stage(ArrayView<float> source, ArrayView<int> tables, long table, int kvHead, int from, int to, int p0, AttentionShape shape,
        ArrayView<float> chunk)
    {
        var wide = source.Cast<Float4>();
        int quarter = shape.HeadDim / 4, count = (to - from + 1) * quarter;
        for (int f = Group.IdxX; f < count; f += Group.DimX)
        {
            int p = from + f / quarter, c = f % quarter;
            Float4 v = wide[(AttentionKernel.CacheRow(tables, table, p, shape) * shape.KeyValueDim + kvHead * shape.HeadDim) / 4 + c];
            int s = (p - p0) * shape.KeyStride + 4 * c;
            chunk[s] = v.X;
            chunk[s + 1] = v.Y;
            chunk[s + 2] = v.Z;
            chunk[s + 3] = v.W;
        }
    }

    /// <summary>
    /// scores[r·P + k] = q_r·k_(p0+k)·scale − slope·(i_r − p) for positions in row r's range, −∞ elsewhere. T = ThreadsPerDot
    /// adjacent lanes share a dot (dimensions i ≡ lane mod T, then a butterfly over the T lanes); every thread runs the
    /// same number of rounds, so the shuffles see whole warps.
    /// </summary>
    private static void Score(ArrayView<float> query, ArrayView<float> chunk, ArrayView<int> positions, ArrayView<float> slopes,
        ArrayView<int> rowFrom, ArrayView<int> rowTo, AttentionShape shape, int firstToken, int firstHead, int rows, int p0, int loadFrom, int loadTo,
        ArrayView<float> scores)
    {
        int d = shape.HeadDim, length = shape.ChunkLength, lanes = shape.ThreadsPerDot, slots = Group.DimX / lanes;
        int part = Group.IdxX % lanes, dots = rows * length;
        for (int start = 0; start < dots; start += slots)
        {
            int index = start + Group.IdxX / lanes, r = index / length, k = index % length, p = p0 + k;
            bool staged = index < dots && p >= loadFrom && p <= loadTo;
            float dot = 0;
            if (staged)
                for (int i = part; i < d; i += lanes) dot += DeviceNumbers.Multiply(query[r * d + i], chunk[k * shape.KeyStride + i]);
            for (int offset = lanes / 2; offset > 0; offset /= 2) dot += Warp.ShuffleXor(dot, offset);
            if (part != 0 || index >= dots) continue;
            float score = float.NegativeInfinity;
            if (staged && p >= rowFrom[r] && p <= rowTo[r])
            {
                float slope = shape.Alibi != 0 ? slopes[firstHead + r % shape.HeadBlock] : 0;
                score = DeviceNumbers.Multiply(dot, shape.Scale) - DeviceNumbers.Multiply(slope, positions[firstToken + r / shape.HeadBlock] - p);
            }
            scores[index] = score;
        }
    }

    /// <summary>
    /// A warp per row folds the chunk's scores into the row's online softmax: M = max(m, max_k s_k), scores become
    /// e_k = e^(s_k − M) (0 where masked), l ← l·e^(m − M) + Σ e_k, and rowScale = e^(m − M) (1 for rows the chunk misses).
    /// </summary>
    private static void Softmax(ArrayView<int> rowFrom, ArrayView<int> rowTo, int rows, int p0, int length, ArrayView<float> scores,
        ArrayView<float> rowMax, ArrayView<float> rowSum, ArrayView<float> rowScale)
    {
        int width = Warp.WarpSize, lane = Warp.LaneIdx;
        for (int r = Group.IdxX / width; r < rows; r += Group.DimX / width)
        {
            if (Math.Max(rowFrom[r], p0) > Math.Min(rowTo[r], p0 + length - 1))
            {
                if (lane == 0) rowScale[r] = 1;
                continue;
            }
            float max = rowMax[r], local = float.NegativeInfinity;
            for (int k = lane; k < length; k += width) local = Math.Max(local, scores[r * length + k]);
            float newMax = Math.Max(max, DeviceNumbers.WarpAllMax(local));
            float sum = 0;
            for (int k = lane; k < length; k += width)
            {
                float s = scores[r * length + k];
                float e = s == float.NegativeInfinity ? 0 : MathF.Exp(s - newMax);
                scores[r * length + k] = e;
                sum += e;
            }
            float total = DeviceNumbers.WarpAllSum(sum);
            float correction = max == float.NegativeInfinity ? 0 : MathF.Exp(max - newMax);
            if (lane != 0) continue;
            rowScale[r] = correction;
            rowMax[r] = newMax;
            rowSum[r] = DeviceNumbers.Multiply(rowSum[r], correction) + total;
        }
    }
}
