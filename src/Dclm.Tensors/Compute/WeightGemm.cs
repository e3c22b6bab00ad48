using Dclm.Tensors.Quantization;

namespace Dclm.Tensors.Compute;

/// <summary>
/// Float products against a stored <see cref="WeightMatrix"/> of any type, for training through a
/// frozen (possibly quantized) base: the forward product y = x·Wᵀ and the input gradient dx = dy·W.
/// The weight's rows are read in place: one cache-sized panel at a time is dequantized (to exactly the
/// values <see cref="Dequantize.Row"/> gives) into per-thread scratch and multiplied with
/// <see cref="Gemm"/>'s register tiles, so the dequantized matrix never exists whole.
/// </summary>
/// <remarks>
/// Unlike <see cref="MatMul"/>, which quantizes the activations to Q8 for quantized weights as llama.cpp
/// does, the activations stay float: the products are smooth functions of x, which gradients (and their
/// finite-difference checks) need. Every output element is one chain of fused multiply-adds over the
/// weight's columns (forward) or rows (backward) in order, whatever the level or thread count.
/// </remarks>
public static unsafe class WeightGemm
{
    /// <summary>Weight rows in one forward panel: one 64-column strip of y.</summary>
    internal const int ForwardPanelRows = 64;
    /// <summary>Weight columns dequantized at a time: a whole number of blocks of every type (32 and 256).</summary>
    internal const int DepthChunk = 256;
    /// <summary>Depth of one forward pass over the token tiles, so the panel's strip of B (128 × 64 floats) stays in L1.</summary>
    internal const int ForwardDepthPass = 128;
    /// <summary>Weight rows (the depth) in one backward panel.</summary>
    internal const int BackwardPanelRows = 64;
    /// <summary>Weight columns (columns of dx) in one backward panel.</summary>
    internal const int BackwardPanelColumns = 256;

    /// <summary>True when the products handle weights of <paramref name="type"/>.</summary>
    public static bool Supports(GgmlType type) => Quantizer.Supports(type);

    /// <summary>
    /// y[t, r] = (accumulate ? y[t, r] : 0) + Σ_c x[t, c] · W[r, c], for x (tokens, W.Columns) and
    /// y (tokens, W.Rows), row-major.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, int tokens, in WeightMatrix weight, Span<float> y, bool accumulate, ComputePool pool) =>
        Forward(x, tokens, weight, y, accumulate, pool, KernelIsaInfo.Best);

    /// <summary>
    /// dx[t, c] = (accumulate ? dx[t, c] : 0) + Σ_r dy[t, r] · W[r, c], for dy (tokens, W.Rows) and
    /// dx (tokens, W.Columns), row-major.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dy, int tokens, in WeightMatrix weight, Span<float> dx, bool accumulate, ComputePool pool) =>
        Backward(dy, tokens, weight, dx, accumulate, pool, KernelIsaInfo.Best);

    /// <summary><see cref="Forward(ReadOnlySpan{float}, int, in WeightMatrix, Span{float}, bool, ComputePool)"/> at one instruction-set level, for tests.</summary>
    internal static void Forward(ReadOnlySpan<float> x, int tokens, in WeightMatrix weight, Span<float> y, bool accumulate, ComputePool pool, KernelIsa isa)
    {
        Check(x.Length, tokens, weight.Columns, "x", y.Length, weight.Rows, "y", weight, isa);
        Run(x, tokens, weight, y, accumulate, pool, isa, backward: false);
    }

    /// <summary><see cref="Backward(ReadOnlySpan{float}, int, in WeightMatrix, Span{float}, bool, ComputePool)"/> at one instruction-set level, for tests.</summary>
    internal static void Backward(ReadOnlySpan<float> dy, int tokens, in WeightMatrix weight, Span<float> dx, bool accumulate, ComputePool pool, KernelIsa isa)
    {
        Check(dy.Length, tokens, weight.Rows, "dy", dx.Length, weight.Columns, "dx", weight, isa);
        Run(dy, tokens, weight, dx, accumulate, pool, isa, backward: true);
    }

    private static void Check(int inputLength, int tokens, int inputWidth, string inputName, int outputLength, int outputWidth, string outputName,
        in WeightMatrix weight, KernelIsa isa)
    {
        if (tokens < 0) throw new ArgumentOutOfRangeException(nameof(tokens), "tokens must be non-negative");
        if (!Supports(weight.Type)) throw new NotSupportedException($"float products with {GgmlTypeInfo.Name(weight.Type)} weights are not supported");
        if (!KernelIsaInfo.IsSupported(isa)) throw new PlatformNotSupportedException($"this processor does not run {isa} kernels");
        if (inputLength < (long)tokens * inputWidth) throw new ArgumentException($"{inputName} holds {inputLength} values, fewer than {tokens} × {inputWidth}");
        if (outputLength < (long)tokens * outputWidth) throw new ArgumentException($"{outputName} holds {outputLength} values, fewer than {tokens} × {outputWidth}");
        if (tokens > 0 && weight.Rows > 0 && weight.Columns > 0 && weight.Data == null) throw new ArgumentException("the weight matrix has no data", nameof(weight));
    }

    private static void Run(ReadOnlySpan<float> input, int tokens, in WeightMatrix weight, Span<float> output, bool accumulate, ComputePool pool, KernelIsa isa, bool backward)
    {
        int outputWidth = backward ? weight.Columns : weight.Rows;
        if (tokens == 0 || outputWidth == 0) return;
        int depth = backward ? weight.Rows : weight.Columns;
        if (depth == 0)
        {
            if (!accumulate) output[..(tokens * outputWidth)].Clear();
            return;
        }
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            var job = WeightGemmJob.ForThisThread;
            job.Prepare(pi, tokens, weight, po, accumulate, isa, backward);
            if (pool.Threads > 1 && (long)tokens * weight.Rows * weight.Columns >= 1 << 15 && job.Panels > 1) pool.Run(job);
            else job.Execute(0, 1);
            job.Release();
        }
    }
}

/// <summary>The panels of one <see cref="WeightGemm"/> product, claimed by the pool's threads from a shared counter.</summary>
internal sealed unsafe class WeightGemmJob : ComputeJob
{
    [ThreadStatic] private static WeightGemmJob? current;
    public static WeightGemmJob ForThisThread => current ??= new WeightGemmJob();

    private float* input, output;
    private int tokens;
    private WeightMatrix weight;
    private bool accumulate, backward;
    private KernelIsa isa;
    private int next;

    /// <summary>Independent units of work: strips of output columns.</summary>
    public int Panels { get; private set; }

    public void Prepare(float* input, int tokens, in WeightMatrix weight, float* output, bool accumulate, KernelIsa isa, bool backward)
    {
        this.input = input; this.output = output; this.tokens = tokens; this.weight = weight;
        this.accumulate = accumulate; this.isa = isa; this.backward = backward;
        Panels = backward
            ? (weight.Columns + WeightGemm.BackwardPanelColumns - 1) / WeightGemm.BackwardPanelColumns
            : (weight.Rows + WeightGemm.ForwardPanelRows - 1) / WeightGemm.ForwardPanelRows;
        next = 0;
    }

    public void Release()
    {
        input = output = null;
        weight = default;
    }

    public override void Execute(int thread, int threads)
    {
        while (true)
        {
            int panel = Interlocked.Increment(ref next) - 1;
            if (panel >= Panels) return;
            if (backward) BackwardPanel(panel);
            else ForwardPanel(panel);
        }
    }

    /// <summary>
    /// y[:, r0..r0+rows) from weight rows r0..r0+rows: each chunk of columns is dequantized row by row,
    /// transposed to (depth, rows) so it is B of y = x·B, and swept by the token tiles.
    /// </summary>
    private void ForwardPanel(int panel)
    {
        int r0 = panel * WeightGemm.ForwardPanelRows, rows = Math.Min(WeightGemm.ForwardPanelRows, weight.Rows - r0), columns = weight.Columns;
        float* rowBuffer = (float*)ScratchBuffer.Panels.Get((nuint)(2 * WeightGemm.ForwardPanelRows * WeightGemm.DepthChunk * sizeof(float)));
        float* transposed = rowBuffer + WeightGemm.ForwardPanelRows * WeightGemm.DepthChunk;
        for (int c0 = 0; c0 < columns; c0 += WeightGemm.DepthChunk)
        {
            int depth = Math.Min(WeightGemm.DepthChunk, columns - c0);
            long offset = GgmlTypeInfo.ByteCount(weight.Type, c0);
            for (int r = 0; r < rows; r++) Quantizer.DequantizeRow(weight.Type, weight.Row(r0 + r) + offset, rowBuffer + r * depth, depth);
            for (int r = 0; r < rows; r++)
                for (int p = 0; p < depth; p++) transposed[p * rows + r] = rowBuffer[r * depth + p];
            for (int p0 = 0; p0 < depth; p0 += WeightGemm.ForwardDepthPass)
            {
                int pass = Math.Min(WeightGemm.ForwardDepthPass, depth - p0);
                Gemm.Block(input + c0 + p0, columns, 1, transposed + p0 * rows, rows, output + r0, weight.Rows,
                    tokens, rows, pass, accumulate || c0 + p0 > 0, isa);
            }
        }
    }

    /// <summary>
    /// dx[:, c0..c0+width) from the same columns of every weight row, a band of rows (the depth) at a time:
    /// the band is B of dx = dy·B in its stored orientation. F32 weights are read where they lie.
    /// </summary>
    private void BackwardPanel(int panel)
    {
        int c0 = panel * WeightGemm.BackwardPanelColumns, width = Math.Min(WeightGemm.BackwardPanelColumns, weight.Columns - c0), rows = weight.Rows;
        long offset = GgmlTypeInfo.ByteCount(weight.Type, c0);
        float* band = weight.Type == GgmlType.F32 ? null
            : (float*)ScratchBuffer.Panels.Get((nuint)(WeightGemm.BackwardPanelRows * WeightGemm.BackwardPanelColumns * sizeof(float)));
        for (int r0 = 0; r0 < rows; r0 += WeightGemm.BackwardPanelRows)
        {
            int depth = Math.Min(WeightGemm.BackwardPanelRows, rows - r0);
            float* b;
            int bStride;
            if (band == null)
            {
                b = (float*)(weight.Row(r0) + offset);
                bStride = weight.Columns;
            }
            else
            {
                for (int r = 0; r < depth; r++) Quantizer.DequantizeRow(weight.Type, weight.Row(r0 + r) + offset, band + r * width, width);
                b = band;
                bStride = width;
            }
            Gemm.Block(input + r0, rows, 1, b, bStride, output + c0, weight.Columns, tokens, width, depth, accumulate || r0 > 0, isa);
        }
    }
}
