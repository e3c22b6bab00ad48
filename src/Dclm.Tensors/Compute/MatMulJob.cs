namespace Dclm.Tensors.Compute;

/// <summary>
/// One matrix product in flight: the quantized activations and the kernels chosen for it. Threads
/// claim chunks of output rows from a shared counter, and each chunk is computed for every token
/// while its weight rows are still in cache.
/// </summary>
internal sealed unsafe partial class MatMulJob : ComputeJob
{
    [ThreadStatic] private static MatMulJob? cached;

    private enum Family { Float, Q8, Q8K }

    private float* input;
    private float* output;
    private int tokens;
    private WeightMatrix weight;
    private Family family;
    private byte* activations;
    private delegate*<byte*, Q8Row, int, float> q8Kernel;
    /// <summary>The many-row kernel of a one-token product where the level has one, else null (then <see cref="q8Kernel"/> row by row).</summary>
    private delegate*<byte*, long, int, Q8Row, int, float*, void> q8Rows;
    private delegate*<byte*, Q8KRow, int, float> q8KKernel;
    /// <summary>The tile kernels of this product, when it runs tiles (eight or more tokens), else none.</summary>
    private TileKernels q8Tiles;
    /// <summary>The few-token kernel of this product (2 to <see cref="FewTokens.MaxTokens"/> tokens, no tiles), else null.</summary>
    private delegate*<byte*, long, int, Q8Row*, int, int, float*, void> q8Tokens;
    private byte* tiles;
    private delegate*<byte*, Q8KRow*, int, float*, void> q8KTokens4;
    private int chunkRows;
    private bool guided;
    // Rows claimed so far in each part's span (ExecuteSpans), one counter per 64-byte line.
    private const int MaxSpans = 64, SpanStride = 16;
    private readonly int[] spanClaimed = new int[MaxSpans * SpanStride];
    private int spansUsed;
    private int nextRow;

    /// <summary>The calling thread's reusable job (a product never nests inside another on one thread).</summary>
    public static MatMulJob ForThisThread => cached ??= new MatMulJob();

    /// <summary>Chooses kernels and quantizes the input rows once for the whole product.</summary>
    public void Prepare(float* x, int tokenCount, in WeightMatrix matrix, float* y, KernelIsa isa)
    {
        input = x;
        output = y;
        tokens = tokenCount;
        weight = matrix;
        q8Tiles = default;
        int columns = matrix.Columns;
        switch (matrix.Type)
        {
            case GgmlType.F32 or GgmlType.F16 or GgmlType.BF16:
                family = Family.Float;
                PrepareFloat(x, tokenCount, matrix.Type, columns, isa);
                break;
            case GgmlType.Q8_0 or GgmlType.Q4_0:
                family = Family.Q8;
                q8Kernel = DotKernels.Q8(matrix.Type, isa);
                q8Rows = tokenCount == 1 ? DotKernels.Q8Rows(matrix.Type, isa) : null;
                activations = ScratchBuffer.Activations.Get(Q8Activations.RowBytes(columns) * (nuint)tokenCount);
                for (int t = 0; t < tokenCount; t++)
                    Q8Activations.Quantize(x + (long)t * columns, columns, Q8Activations.Row(activations, columns, t));
                q8Tiles = tokenCount >= FewTokens.MaxTokens ? DotKernels.Q8Tiles(matrix.Type, isa) : default;
                if (q8Tiles.Exist) BuildTiles(columns);
                q8Tokens = !q8Tiles.Exist && tokenCount is >= 2 and <= FewTokens.MaxTokens ? DotKernels.Q8Tokens(matrix.Type, isa) : null;
                break;
            default:
                family = Family.Q8K;
                q8KKernel = DotKernels.Q8K(matrix.Type, isa);
                q8KTokens4 = DotKernels.Q8KTokens4(matrix.Type, isa);
                activations = ScratchBuffer.Activations.Get(Q8KActivations.RowBytes(columns) * (nuint)tokenCount);
                for (int t = 0; t < tokenCount; t++)
                    Q8KActivations.Quantize(x + (long)t * columns, columns, Q8KActivations.Row(activations, columns, t));
                break;
        }
        // Enough chunks per thread to even out uneven progress, few enough to keep the counter cold.
        chunkRows = Math.Max(4, matrix.Rows / 64 / 4 * 4);
        // A chunk of GEMM tiles streams every token tile once, and each token row of its output is a
        // run of chunkRows floats: at least 16 rows keeps threads from sharing output cache lines
        // (four-row chunks of a 256-row K/V product put four threads' chunks in one line per token)
        // and keeps the tile re-reads per product low.
        if (q8Tiles.Exist) chunkRows = Math.Max(16, matrix.Rows / 64 / 16 * 16);
        // Float products too: the contiguous spans measured 1.5-2.7x faster than shared 4-row chunks for
        // one token of a dim-256 bf16 model (each chunk claim bounced the counter's line between the cores
        // and broke the weight stream the prefetchers follow).
        guided = !q8Tiles.Exist && family is Family.Q8 or Family.Float;
        if (guided)
            for (int part = 0; part < spansUsed; part++) spanClaimed[part * SpanStride] = 0;
        nextRow = 0;
    }

    /// <summary>Regroups the quantized rows into tiles as wide as the kernels take, the last one padded with zeros.</summary>
    private void BuildTiles(int columns)
    {
        int width = q8Tiles.Width;
        nuint tileBytes = Q8Tiles.TileBytes(columns, width);
        int count = (tokens + width - 1) / width;
        tiles = ScratchBuffer.Tiles.Get(tileBytes * (nuint)count);
        for (int i = 0; i < count; i++)
        {
            int first = i * width;
            Q8Tiles.Build(activations, columns, first, Math.Min(width, tokens - first), tiles + tileBytes * (nuint)i, width);
        }
    }

    /// <summary>Drops the pointers so a finished job holds nothing of the caller's.</summary>
    public void Release()
    {
        input = null;
        output = null;
        activations = null;
        tiles = null;
        weight = default;
    }

    public override void Execute(int thread, int threads)
    {
        int rows = weight.Rows;
        if (guided && threads <= MaxSpans) { ExecuteSpans(rows, thread, threads); return; }
        if (guided) { ExecuteGuided(rows, threads); return; }
        while (true)
        {
            int start = Interlocked.Add(ref nextRow, chunkRows) - chunkRows;
            if (start >= rows) return;
            RunRows(start, Math.Min(rows, start + chunkRows));
        }
    }

    /// <summary>
    /// Claims shrinking chunks, a quarter of each thread's share of the rows still unclaimed (at least
    /// four rows): the one-row kernels stream each weight row once, so long chunks keep a thread's stream
    /// and its prefetches running through consecutive rows, and the short last ones keep the thread that
    /// finishes first from idling while the other works through a long one. In TinyLlama decode, fixed
    /// chunks of 1/64 of the rows measured 7-12% slower than 1/16, and 1/16 2-8% slower than this.
    /// </summary>
    private void ExecuteGuided(int rows, int threads)
    {
        while (true)
        {
            int start = Volatile.Read(ref nextRow);
            if (start >= rows) return;
            int count = Math.Max(4, (rows - start) / (4 * threads) / 4 * 4);
            if (Interlocked.CompareExchange(ref nextRow, start + count, start) != start) continue;
            RunRows(start, Math.Min(rows, start + count));
        }
    }

    /// <summary>
    /// Each part owns one contiguous span of the rows and claims shrinking chunks of it (a quarter of
    /// what is left, at least four rows), then helps with the other spans the same way, so a descheduled
    /// thread's rows are still finished by the others. One stream per thread through its own span
    /// measured 2-7% faster in decode than both threads claiming chunks from one shared front.
    /// </summary>
    private void ExecuteSpans(int rows, int thread, int threads)
    {
        spansUsed = Math.Max(spansUsed, threads);
        int span = (rows / threads + 3) / 4 * 4;
        for (int k = 0; k < threads; k++)
        {
            int part = (thread + k) % threads;
            int first = Math.Min(rows, part * span), end = part == threads - 1 ? rows : Math.Min(rows, first + span);
            ref int claimed = ref spanClaimed[part * SpanStride];
            while (true)
            {
                int done = Volatile.Read(ref claimed);
                int start = first + done;
                if (start >= end) break;
                int count = Math.Max(4, (end - start) / 4 / 4 * 4);
                if (Interlocked.CompareExchange(ref claimed, done + count, done) != done) continue;
                RunRows(start, Math.Min(end, start + count));
            }
        }
    }

    private void RunRows(int start, int end)
    {
        switch (family)
        {
            case Family.Float: RunFloatRows(start, end); break;
            case Family.Q8: RunQ8Rows(start, end); break;
            case Family.Q8K: RunQ8KRows(start, end); break;
        }
    }

    /// <summary>
    /// Rows [start, end) for every token: tiles from <see cref="FewTokens.MaxTokens"/> tokens, else each row
    /// against all the tokens at once with the few-token kernel (or one token with the one-row kernel), so a
    /// token of a small batch gets exactly the bits it gets decoded alone.
    /// </summary>
    private void RunQ8Rows(int start, int end)
    {
        if (q8Tiles.Exist) { RunQ8Tiles(start, end); return; }
        int columns = weight.Columns, rows = weight.Rows, blocks = columns / 32;
        long rowBytes = weight.RowBytes;
        byte* data = weight.Data;
        if (q8Tokens != null)
        {
            const int chunk = 16;
            Q8Row* tokenRows = stackalloc Q8Row[FewTokens.MaxTokens];
            float* results = stackalloc float[chunk * FewTokens.MaxTokens];
            for (int t = 0; t < tokens; t++) tokenRows[t] = Q8Activations.Row(activations, columns, t);
            for (int r0 = start; r0 < end; r0 += chunk)
            {
                int count = Math.Min(chunk, end - r0);
                q8Tokens(data + r0 * rowBytes, rowBytes, count, tokenRows, tokens, blocks, results);
                for (int r = 0; r < count; r++)
                    for (int t = 0; t < tokens; t++) output[(long)t * rows + r0 + r] = results[r * tokens + t];
            }
            return;
        }
        if (q8Rows != null)
        {
            q8Rows(data + start * rowBytes, rowBytes, end - start, Q8Activations.Row(activations, columns, 0), blocks, output + start);
            return;
        }
        for (int r = start; r < end; r++)
            for (int t = 0; t < tokens; t++)
                output[(long)t * rows + r] = q8Kernel(data + r * rowBytes, Q8Activations.Row(activations, columns, t), blocks);
    }

    /// <summary>
    /// Rows [start, end) against every tile, four rows at a time, then two (an odd last row is paired with
    /// itself): the weight chunk stays in L2 and each tile in L1 while it is reused.
    /// </summary>
    private void RunQ8Tiles(int start, int end)
    {
        int columns = weight.Columns, rows = weight.Rows, blocks = columns / 32, width = q8Tiles.Width;
        long rowBytes = weight.RowBytes;
        byte* data = weight.Data;
        nuint tileBytes = Q8Tiles.TileBytes(columns, width);
        float* results = stackalloc float[4 * Q8Tiles.WideTokens];
        for (int first = 0; first < tokens; first += width)
        {
            byte* tile = tiles + tileBytes * (nuint)(first / width);
            int count = Math.Min(width, tokens - first);
            int r = start;
            for (; r + 4 <= end; r += 4)
            {
                q8Tiles.Rows4(data + r * rowBytes, rowBytes, tile, blocks, results);
                for (int k = 0; k < count; k++)
                {
                    float* target = output + (long)(first + k) * rows + r;
                    target[0] = results[k];
                    target[1] = results[width + k];
                    target[2] = results[2 * width + k];
                    target[3] = results[3 * width + k];
                }
            }
            for (; r < end; r += 2)
            {
                int second = Math.Min(r + 1, end - 1);
                q8Tiles.Rows2(data + r * rowBytes, data + second * rowBytes, tile, blocks, results);
                for (int k = 0; k < count; k++)
                {
                    output[(long)(first + k) * rows + r] = results[k];
                    if (second != r) output[(long)(first + k) * rows + second] = results[width + k];
                }
            }
        }
    }

    private void RunQ8KRows(int start, int end)
    {
        int columns = weight.Columns, rows = weight.Rows, superBlocks = columns / 256, first = 0;
        long rowBytes = weight.RowBytes;
        byte* data = weight.Data;
        if (q8KTokens4 != null)
        {
            Q8KRow* group = stackalloc Q8KRow[4];
            float* results = stackalloc float[4];
            for (; first + 4 <= tokens; first += 4)
            {
                for (int k = 0; k < 4; k++) group[k] = Q8KActivations.Row(activations, columns, first + k);
                for (int r = start; r < end; r++)
                {
                    q8KTokens4(data + r * rowBytes, group, superBlocks, results);
                    for (int k = 0; k < 4; k++) output[(long)(first + k) * rows + r] = results[k];
                }
            }
        }
        for (int r = start; r < end; r++)
            for (int t = first; t < tokens; t++)
                output[(long)t * rows + r] = q8KKernel(data + r * rowBytes, Q8KActivations.Row(activations, columns, t), superBlocks);
    }
}
