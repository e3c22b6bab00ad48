using System.Numerics.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.FineTuning;

/// <summary>
/// A low-rank adapter (LoRA) on output rows [<see cref="RowStart"/>, <see cref="RowStart"/> + <see cref="Rows"/>)
/// of one projection y = x·Wᵀ: y[:, rows] += s · (x̃ · Aᵀ) · Bᵀ, with A (rank, in), B (rows, rank), s the scale
/// (alpha / rank) and x̃ = dropout(x) while training. A slice of rows is how one adapter targets q, k or v
/// inside open_lm's fused in_proj (or gate, up inside w12); a whole projection is rows [0, out).
/// </summary>
/// <remarks>
/// Backward, with u = s·x̃·Aᵀ (n, rank) recomputed rather than saved and g = s·dy_s·B (n, rank):
/// dB += dy_sᵀ·u, dA += gᵀ·x̃, dx += (g·A) ⊙ mask. The dropout mask is a pure function of the pass key,
/// the adapter and the element, so a recomputed forward (activation checkpointing) and the backward see
/// the same mask without storing it.
/// </remarks>
public sealed class LoraAdapter
{
    /// <summary>
    /// An adapter with zero A and B. <paramref name="scale"/> is s (α / r when null); <paramref name="sharedA"/>, when given,
    /// is another adapter's A that this one uses too (the slices of one PEFT adapter on a fused projection).
    /// </summary>
    public LoraAdapter(string module, int inputWidth, int rowStart, int rows, int rank, double alpha, double dropout, bool trainable = true,
        double? scale = null, ParameterTensor? sharedA = null)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} must be positive");
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), $"dropout {dropout} must be in [0, 1)");
        Module = module;
        InputWidth = inputWidth;
        RowStart = rowStart;
        Rows = rows;
        Rank = rank;
        Alpha = alpha;
        Dropout = dropout;
        if (sharedA is not null && (sharedA.Rows != rank || sharedA.Columns != inputWidth)) throw new ArgumentException($"a shared A must be {rank} × {inputWidth}");
        A = sharedA ?? new ParameterTensor(module + ".lora_A.weight", [rank, inputWidth], false, null, trainable);
        Scale = (float)(scale ?? alpha / rank);
        B = new ParameterTensor(module + ".lora_B.weight", [rows, rank], false, null, trainable);
        Stream = Fnv(module);
    }

    /// <summary>Which projection (and slice) this adapter belongs to, e.g. layers.3.q.</summary>
    public string Module { get; }
    /// <summary>Width of the projection's input.</summary>
    public int InputWidth { get; }
    /// <summary>First output row the adapter adds to.</summary>
    public int RowStart { get; }
    /// <summary>Output rows the adapter adds to.</summary>
    public int Rows { get; }
    /// <summary>r.</summary>
    public int Rank { get; }
    /// <summary>LoRA's α; the product is scaled by α / r.</summary>
    public double Alpha { get; }
    /// <summary>s: α / r (α / √r for rank-stabilised adapters).</summary>
    public float Scale { get; }
    /// <summary>Probability that an input element is dropped (while training only).</summary>
    public double Dropout { get; }
    /// <summary>The down projection. (rank, in)</summary>
    public ParameterTensor A { get; }
    /// <summary>The up projection, zero at the start of training. (rows, rank)</summary>
    public ParameterTensor B { get; }
    /// <summary>Whether the adapter adds its product; off, its projection is the frozen base alone (DPO's reference model).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Distinguishes this adapter's dropout masks from every other's.</summary>
    private ulong Stream { get; }

    /// <summary>PEFT's initialisation: A ~ kaiming-uniform(a = √5), i.e. U(−1/√in, 1/√in); B = 0, so training starts at the base model.</summary>
    public void Initialize(DeterministicRandom random)
    {
        double bound = 1.0 / Math.Sqrt(InputWidth);
        for (int i = 0; i < A.Length; i++) A.Values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        Array.Clear(B.Values);
    }

    /// <summary>
    /// y[t, RowStart + i] += s·Σ_k (x̃·Aᵀ)[t, k]·B[i, k] for x (n, in) and y (n, yStride).
    /// <paramref name="dropoutKey"/> = 0 turns dropout off (evaluation, inference).
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, int n, Span<float> y, int yStride, ulong dropoutKey, LoraScratch scratch, ComputePool pool)
    {
        if (n == 0) return;
        var u = Down(x, n, dropoutKey, scratch, pool, out _);
        Gemm.Multiply(u, Rank, 1, TransposedB(scratch), Rows, y[RowStart..], yStride, n, Rank, Rows, true, pool);
    }

    /// <summary>
    /// From dy (n, dyStride) and the forward's input x (n, in): accumulates dA and dB when the adapter trains and adds
    /// the adapter's share of dx (n, in).
    /// </summary>
    public void Backward(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<float> x, int n, Span<float> dx, ulong dropoutKey, LoraScratch scratch, ComputePool pool)
    {
        if (n == 0) return;
        int r = Rank, input = InputWidth;
        var dySlice = dy[RowStart..];
        var u = Down(x, n, dropoutKey, scratch, pool, out var dropped);
        var g = scratch.Get(ref scratch.Up, n * r);
        // g = s·dy_s·B (n, r)
        Gemm.Multiply(dySlice, dyStride, 1, B.Values, r, g, r, n, Rows, r, false, pool);
        TensorPrimitives.Multiply(g, Scale, g);
        if (B.Gradient is { } dB)
        {
            // dBᵀ (r, rows) = uᵀ·dy_s: r rows of wide tiles, then added into dB (rows, r) transposed.
            var dBt = scratch.Get(ref scratch.Transposed, r * Rows);
            Gemm.Multiply(u, 1, r, dySlice, dyStride, dBt, Rows, r, n, Rows, false, pool);
            for (int i = 0; i < Rows; i++)
                for (int k = 0; k < r; k++) dB[i * r + k] += dBt[k * Rows + i];
        }
        if (A.Gradient is { } dA) Gemm.Multiply(g, 1, r, dropped, input, dA, input, r, n, input, true, pool);
        if (dropoutKey == 0 || Dropout == 0)
        {
            Gemm.Multiply(g, r, 1, A.Values, input, dx, input, n, r, input, true, pool);
            return;
        }
        var product = scratch.Get(ref scratch.Product, n * input);
        Gemm.Multiply(g, r, 1, A.Values, input, product, input, n, r, input, false, pool);
        DropoutMask(product, n, dropoutKey, product);
        TensorPrimitives.Add(dx[..(n * input)], product, dx[..(n * input)]);
    }

    /// <summary>u = s·x̃·Aᵀ (n, r) into scratch; <paramref name="dropped"/> is x̃ (x itself without dropout).</summary>
    private Span<float> Down(ReadOnlySpan<float> x, int n, ulong dropoutKey, LoraScratch scratch, ComputePool pool, out ReadOnlySpan<float> dropped)
    {
        int r = Rank, input = InputWidth;
        dropped = x[..(n * input)];
        if (dropoutKey != 0 && Dropout > 0)
        {
            var masked = scratch.Get(ref scratch.Dropped, n * input);
            DropoutMask(x, n, dropoutKey, masked);
            dropped = masked;
        }
        var aTransposed = scratch.Get(ref scratch.Transposed, input * r);
        for (int k = 0; k < r; k++)
            for (int c = 0; c < input; c++) aTransposed[c * r + k] = A.Values[k * input + c];
        var u = scratch.Get(ref scratch.Down, n * r);
        Gemm.Multiply(dropped, input, 1, aTransposed, r, u, r, n, input, r, false, pool);
        TensorPrimitives.Multiply(u, Scale, u);
        return u;
    }

    /// <summary>Bᵀ (r, rows) into scratch.</summary>
    private Span<float> TransposedB(LoraScratch scratch)
    {
        var bt = scratch.Get(ref scratch.Transposed, Rank * Rows);
        for (int i = 0; i < Rows; i++)
            for (int k = 0; k < Rank; k++) bt[k * Rows + i] = B.Values[i * Rank + k];
        return bt;
    }

    /// <summary>destination = x ⊙ m / (1 − p), m_i ∈ {0, 1} drawn from 16 bits of a hash of (key, adapter, i / 4).</summary>
    internal void DropoutMask(ReadOnlySpan<float> x, int n, ulong key, Span<float> destination)
    {
        long count = (long)n * InputWidth;
        uint threshold = (uint)Math.Round(Dropout * 65536);
        float kept = (float)(1 / (1 - Dropout));
        ulong seed = key ^ Stream;
        for (long i = 0; i < count; i += 4)
        {
            ulong bits = Mix(seed + (ulong)i);
            for (int j = 0; j < 4 && i + j < count; j++, bits >>= 16)
                destination[(int)(i + j)] = (bits & 0xFFFF) >= threshold ? x[(int)(i + j)] * kept : 0f;
        }
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }

    public override string ToString() => $"{Module} rows [{RowStart}, {RowStart + Rows}) rank {Rank}";
}

/// <summary>Buffers the adapters of one model share (they run one at a time), grown to the largest use.</summary>
public sealed class LoraScratch
{
    internal float[] Down = [], Up = [], Transposed = [], Dropped = [], Product = [];

    internal Span<float> Get(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
        return buffer.AsSpan(0, length);
    }
}
