using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The weighted sum of a run of cached values into one head's attention output:
/// output[c] += Σ_i weights[i] · values[i·stride + c] for i in [0, count), c in [0, headDim) with
/// headDim = output.Length. Values are f32 or int8 (for int8, each weight already carries its value's scale).
/// <para>
/// Every level does, per element, one fused multiply-add per position in position order, which is
/// the scalar reference's arithmetic: all levels give the same bits. AVX-512 keeps sixteen outputs in a
/// register across the positions; AVX2 adds one position at a time, eight columns per step.
/// </para>
/// </summary>
public static unsafe class AttentionValues
{
    /// <summary>output += Σ_i weights[i] · values[i·stride .. +output.Length] over <paramref name="count"/> positions of f32 values.</summary>
    public static void AddWeighted(ReadOnlySpan<float> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output) =>
        AddWeighted(values, stride, count, weights, output, KernelIsaInfo.Best);

    /// <summary>The same over int8 values.</summary>
    public static void AddWeighted(ReadOnlySpan<sbyte> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output) =>
        AddWeighted(values, stride, count, weights, output, KernelIsaInfo.Best);

    /// <summary>f32 values with the kernels of one instruction-set level, for tests.</summary>
    internal static void AddWeighted(ReadOnlySpan<float> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output, KernelIsa isa)
    {
        Check(values.Length, stride, count, weights.Length, output.Length, isa);
        if (count == 0) return;
        fixed (float* v = values)
        fixed (float* w = weights)
        fixed (float* o = output)
            Run<AttentionScores.F32Keys>((byte*)v, stride, count, output.Length, w, o, isa);
    }

    /// <summary>int8 values with the kernels of one instruction-set level, for tests.</summary>
    internal static void AddWeighted(ReadOnlySpan<sbyte> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output, KernelIsa isa)
    {
        Check(values.Length, stride, count, weights.Length, output.Length, isa);
        if (count == 0) return;
        fixed (sbyte* v = values)
        fixed (float* w = weights)
        fixed (float* o = output)
            Run<AttentionScores.Int8Keys>((byte*)v, stride, count, output.Length, w, o, isa);
    }

    private static void Check(int values, int stride, int count, int weights, int headDim, KernelIsa isa)
    {
        if (count < 0 || stride < 0) throw new ArgumentOutOfRangeException(nameof(count), "count and stride must be non-negative");
        if (weights < count) throw new ArgumentException($"weights hold {weights} values, fewer than {count} positions", nameof(weights));
        if (count > 0 && values < (long)(count - 1) * stride + headDim)
            throw new ArgumentException($"values hold {values} values, fewer than {count} positions {stride} apart of width {headDim}", nameof(values));
        if (!KernelIsaInfo.IsSupported(isa)) throw new PlatformNotSupportedException($"this processor does not run {isa} kernels");
    }

    private static void Run<T>(byte* v, long stride, int count, int headDim, float* w, float* o, KernelIsa isa) where T : struct, AttentionScores.IKeys
    {
        int c = 0;
        if (isa == KernelIsa.Avx512)
            for (; c + 16 <= headDim; c += 16)
            {
                var sum = Vector512.Load(o + c);
                for (int i = 0; i < count; i++) sum = Vector512.FusedMultiplyAdd(T.Load16(v, c + i * stride), Vector512.Create(w[i]), sum);
                sum.Store(o + c);
            }
        if (isa >= KernelIsa.Avx2 && c + 8 <= headDim)
            for (int i = 0; i < count; i++)
            {
                var factor = Vector256.Create(w[i]);
                for (int j = c; j + 8 <= headDim; j += 8)
                    Vector256.FusedMultiplyAdd(T.Load8(v, j + i * stride), factor, Vector256.Load(o + j)).Store(o + j);
            }
        if (isa >= KernelIsa.Avx2) c += (headDim - c) / 8 * 8;
        Scalar<T>(v, stride, count, c, headDim, w, o);
    }

    /// <summary>The reference, over columns [from, headDim): o[c] = fma(v_i[c], w_i, o[c]) for each position i in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scalar<T>(byte* v, long stride, int count, int from, int headDim, float* w, float* o) where T : struct, AttentionScores.IKeys
    {
        for (int i = 0; i < count; i++)
            for (int c = from; c < headDim; c++) o[c] = MathF.FusedMultiplyAdd(T.Load1(v, c + i * stride), w[i], o[c]);
    }
}
