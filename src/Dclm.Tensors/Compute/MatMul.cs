namespace Dclm.Tensors.Compute;

/// <summary>Matrix products against weight matrices of any supported <see cref="GgmlType"/>.</summary>
public static unsafe class MatMul
{
    /// <summary>True when <see cref="Multiply(ReadOnlySpan{float}, int, in WeightMatrix, Span{float}, ComputePool?)"/> handles weights of <paramref name="type"/>.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>
    /// The environment variable that caps the kernel level of this process: scalar, avx2, avxvnni or avx512 (the
    /// widest to use; unset: the widest this processor runs). For checking a result or a speed at a lower level.
    /// </summary>
    public const string LevelLimitVariable = "DCLM_KERNEL_LEVEL";

    /// <summary>
    /// How far ahead of the row in hand the one-row (decode) kernels prefetch weights, in bytes; a bandwidth probe that
    /// reads as decode does prefetches as far.
    /// </summary>
    public const int PrefetchDistance = BlockGroups.PrefetchDistance;

    /// <summary>Why <see cref="LevelLimitVariable"/>'s value was not understood (then no cap applies); null when it was or is unset.</summary>
    public static string? LevelLimitError => KernelIsaInfo.LimitError;

    /// <summary>
    /// The instruction-set level Multiply runs for weights of <paramref name="type"/> and a product
    /// of <paramref name="tokens"/> tokens on this processor, as benchmarks report it: "scalar", "avx2",
    /// "avxvnni" (AVX2 with AVX-VNNI dot products) or "avx512".
    /// </summary>
    public static string KernelLevel(GgmlType type, int tokens = 1) => KernelIsaInfo.BestFor(type, tokens).ToString().ToLowerInvariant();

    /// <summary>
    /// destination[t, r] = Σ_c input[t, c] · weight[r, c], for input (tokens, weight.Columns) and
    /// destination (tokens, weight.Rows), both row-major. Quantized weights are multiplied the way
    /// llama.cpp does it: each input row is quantized once (to Q8_0 for Q8_0/Q4_0 weights, to Q8_K for
    /// K-quants) and the blocks are combined with exact integer dot products. Rows are split over
    /// <paramref name="pool"/> (<see cref="ComputePool.Shared"/> when null).
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> input, int tokens, in WeightMatrix weight, Span<float> destination, ComputePool? pool = null) =>
        Multiply(input, tokens, weight, destination, pool ?? ComputePool.Shared, KernelIsaInfo.BestFor(weight.Type, tokens));

    /// <summary>The same product with the kernels of one instruction-set level, for tests.</summary>
    internal static void Multiply(ReadOnlySpan<float> input, int tokens, in WeightMatrix weight, Span<float> destination, ComputePool pool, KernelIsa isa)
    {
        if (tokens < 0) throw new ArgumentOutOfRangeException(nameof(tokens), "tokens must be non-negative");
        if (!Supports(weight.Type)) throw new NotSupportedException($"matrix products with {GgmlTypeInfo.Name(weight.Type)} weights are not supported");
        if (!KernelIsaInfo.IsSupported(isa)) throw new PlatformNotSupportedException($"this processor does not run {isa} kernels");
        int columns = weight.Columns, rows = weight.Rows;
        if (input.Length < (long)tokens * columns) throw new ArgumentException($"input holds {input.Length} values, fewer than {tokens} tokens × {columns} columns", nameof(input));
        if (destination.Length < (long)tokens * rows) throw new ArgumentException($"destination holds {destination.Length} values, fewer than {tokens} tokens × {rows} rows", nameof(destination));
        if (tokens == 0 || rows == 0) return;
        if (weight.Data == null) throw new ArgumentException("the weight matrix has no data", nameof(weight));

        fixed (float* x = input)
        fixed (float* y = destination)
        {
            MatMulJob job = MatMulJob.ForThisThread;
            job.Prepare(x, tokens, weight, y, isa);
            // Below ~64k multiply-adds a fork/join costs more than it saves.
            bool parallel = pool.Threads > 1 && (long)rows * columns * tokens >= 1 << 16 && rows >= 2;
            if (parallel) pool.Run(job);
            else job.Execute(0, 1);
            job.Release();
        }
    }
}
