using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The weighted sum of a run of cached values into one head's attention output:
/// output[c] += Σ_i weights[i] · values[i·stride + c] for i in [0, count), c in [0, headDim) with
/// headDim = output.Length. Values are f32 or int8 (for int8, each weight already carries its value's scale).
/// <para>
/// Every level does, per element, one fused multiply-add per position in position order, which is
/// the scalar reference's arithmetic: all levels give the same bits. AVX-512 keeps up to 128 outputs in
/// eight registers across the positions (eight independent chains hide the multiply-add latency that one
/// register per sixteen columns would wait on), then four, then one; AVX2 does the same with 256-bit registers.
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
    internal static void AddWeighted(ReadOnlySpan<float> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output, KernelIsa isa) =>
        AddWeighted<AttentionScores.F32Keys, float>(values, stride, count, weights, output, isa);

    /// <summary>int8 values with the kernels of one instruction-set level, for tests.</summary>
    internal static void AddWeighted(ReadOnlySpan<sbyte> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output, KernelIsa isa) =>
        AddWeighted<AttentionScores.Int8Keys, sbyte>(values, stride, count, weights, output, isa);

    private static void AddWeighted<T, TElement>(ReadOnlySpan<TElement> values, int stride, int count, ReadOnlySpan<float> weights, Span<float> output,
        KernelIsa isa) where T : struct, AttentionScores.IKeys where TElement : unmanaged
    {
        Check(values.Length, stride, count, weights.Length, output.Length, isa);
        if (count == 0) return;
        fixed (TElement* v = values)
        fixed (float* w = weights)
        fixed (float* o = output)
            Run<T>((byte*)v, stride, count, output.Length, w, o, isa);
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
        {
            for (; c + 128 <= headDim; c += 128) Columns8<T, Lanes512, Vector512<float>>(v, c, stride, count, w, o + c);
            for (; c + 64 <= headDim; c += 64) Columns512x4<T>(v, c, stride, count, w, o + c);
            for (; c + 16 <= headDim; c += 16) Columns1<T, Lanes512, Vector512<float>>(v, c, stride, count, w, o + c);
        }
        if (isa >= KernelIsa.Avx2)
        {
            for (; c + 64 <= headDim; c += 64) Columns8<T, Lanes256, Vector256<float>>(v, c, stride, count, w, o + c);
            for (; c + 8 <= headDim; c += 8) Columns1<T, Lanes256, Vector256<float>>(v, c, stride, count, w, o + c);
        }
        Scalar<T>(v, stride, count, c, headDim, w, o);
    }

    /// <summary>f32 values in place, for the attention tile: o[c] += Σ_i w_i·v[i·stride + c] over c in [0, headDim).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddWeighted(float* v, long stride, int count, float* w, float* o, int headDim, KernelIsa isa) =>
        Run<AttentionScores.F32Keys>((byte*)v, stride, count, headDim, w, o, isa);

    /// <summary>
    /// f32 values into four rows' outputs at once, for the attention tile: o_r[c] += Σ_i w_r[i]·v[i·stride + c] for rows
    /// r in [0, 4) (weights <paramref name="w"/> + r·<paramref name="weightStride"/>, outputs <paramref name="o"/> + r·headDim),
    /// c in [0, headDim), headDim a multiple of sixteen. Each value load feeds four rows. Every element takes one fused
    /// multiply-add per position in position order, as <see cref="AddWeighted(float*, long, int, float*, float*, int, KernelIsa)"/>
    /// does, so each row gets the same bits as alone (and a row's run may be cut into calls of either kind).
    /// </summary>
    internal static void AddWeightedRows4(float* v, long stride, int count, float* w, int weightStride, float* o, int headDim)
    {
        float* w1 = w + weightStride, w2 = w1 + weightStride, w3 = w2 + weightStride;
        float* o1 = o + headDim, o2 = o1 + headDim, o3 = o2 + headDim;
        int c = 0;
        for (; c + 64 <= headDim; c += 64)
        {
            Vector512<float> a00 = Vector512.Load(o + c), a01 = Vector512.Load(o + c + 16), a02 = Vector512.Load(o + c + 32), a03 = Vector512.Load(o + c + 48);
            Vector512<float> a10 = Vector512.Load(o1 + c), a11 = Vector512.Load(o1 + c + 16), a12 = Vector512.Load(o1 + c + 32), a13 = Vector512.Load(o1 + c + 48);
            Vector512<float> a20 = Vector512.Load(o2 + c), a21 = Vector512.Load(o2 + c + 16), a22 = Vector512.Load(o2 + c + 32), a23 = Vector512.Load(o2 + c + 48);
            Vector512<float> a30 = Vector512.Load(o3 + c), a31 = Vector512.Load(o3 + c + 16), a32 = Vector512.Load(o3 + c + 32), a33 = Vector512.Load(o3 + c + 48);
            for (int i = 0; i < count; i++)
            {
                float* at = v + c + i * stride;
                Vector512<float> f0 = Vector512.Create(w[i]), f1 = Vector512.Create(w1[i]), f2 = Vector512.Create(w2[i]), f3 = Vector512.Create(w3[i]);
                var x = Vector512.Load(at);
                (a00, a10, a20, a30) = (Vector512.FusedMultiplyAdd(x, f0, a00), Vector512.FusedMultiplyAdd(x, f1, a10),
                    Vector512.FusedMultiplyAdd(x, f2, a20), Vector512.FusedMultiplyAdd(x, f3, a30));
                x = Vector512.Load(at + 16);
                (a01, a11, a21, a31) = (Vector512.FusedMultiplyAdd(x, f0, a01), Vector512.FusedMultiplyAdd(x, f1, a11),
                    Vector512.FusedMultiplyAdd(x, f2, a21), Vector512.FusedMultiplyAdd(x, f3, a31));
                x = Vector512.Load(at + 32);
                (a02, a12, a22, a32) = (Vector512.FusedMultiplyAdd(x, f0, a02), Vector512.FusedMultiplyAdd(x, f1, a12),
                    Vector512.FusedMultiplyAdd(x, f2, a22), Vector512.FusedMultiplyAdd(x, f3, a32));
                x = Vector512.Load(at + 48);
                (a03, a13, a23, a33) = (Vector512.FusedMultiplyAdd(x, f0, a03), Vector512.FusedMultiplyAdd(x, f1, a13),
                    Vector512.FusedMultiplyAdd(x, f2, a23), Vector512.FusedMultiplyAdd(x, f3, a33));
            }
            a00.Store(o + c); a01.Store(o + c + 16); a02.Store(o + c + 32); a03.Store(o + c + 48);
            a10.Store(o1 + c); a11.Store(o1 + c + 16); a12.Store(o1 + c + 32); a13.Store(o1 + c + 48);
            a20.Store(o2 + c); a21.Store(o2 + c + 16); a22.Store(o2 + c + 32); a23.Store(o2 + c + 48);
            a30.Store(o3 + c); a31.Store(o3 + c + 16); a32.Store(o3 + c + 32); a33.Store(o3 + c + 48);
        }
        for (; c + 16 <= headDim; c += 16)
        {
            Vector512<float> a0 = Vector512.Load(o + c), a1 = Vector512.Load(o1 + c), a2 = Vector512.Load(o2 + c), a3 = Vector512.Load(o3 + c);
            for (int i = 0; i < count; i++)
            {
                var x = Vector512.Load(v + c + i * stride);
                (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(x, Vector512.Create(w[i]), a0), Vector512.FusedMultiplyAdd(x, Vector512.Create(w1[i]), a1),
                    Vector512.FusedMultiplyAdd(x, Vector512.Create(w2[i]), a2), Vector512.FusedMultiplyAdd(x, Vector512.Create(w3[i]), a3));
            }
            a0.Store(o + c); a1.Store(o1 + c); a2.Store(o2 + c); a3.Store(o3 + c);
        }
    }

    /// <summary>Columns [c, c + 8 registers) of every position into registers held across the positions; o points at column c.</summary>
    private static void Columns8<T, TLanes, TVector>(byte* v, long c, long stride, int count, float* w, float* o)
        where T : struct, AttentionScores.IKeys where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int r = TLanes.Count;
        TVector a0 = TLanes.Load(o), a1 = TLanes.Load(o + r), a2 = TLanes.Load(o + 2 * r), a3 = TLanes.Load(o + 3 * r);
        TVector a4 = TLanes.Load(o + 4 * r), a5 = TLanes.Load(o + 5 * r), a6 = TLanes.Load(o + 6 * r), a7 = TLanes.Load(o + 7 * r);
        for (int i = 0; i < count; i++)
        {
            var f = TLanes.Broadcast(w[i]);
            long at = c + i * stride;
            a0 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at), f, a0);
            a1 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + r), f, a1);
            a2 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + 2 * r), f, a2);
            a3 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + 3 * r), f, a3);
            a4 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + 4 * r), f, a4);
            a5 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + 5 * r), f, a5);
            a6 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + 6 * r), f, a6);
            a7 = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, at + 7 * r), f, a7);
        }
        TLanes.Store(a0, o); TLanes.Store(a1, o + r); TLanes.Store(a2, o + 2 * r); TLanes.Store(a3, o + 3 * r);
        TLanes.Store(a4, o + 4 * r); TLanes.Store(a5, o + 5 * r); TLanes.Store(a6, o + 6 * r); TLanes.Store(a7, o + 7 * r);
    }

    /// <summary>Columns [c, c + 1 register) of every position: one chain, for what is left after the wider tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns1<T, TLanes, TVector>(byte* v, long c, long stride, int count, float* w, float* o)
        where T : struct, AttentionScores.IKeys where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        var sum = TLanes.Load(o);
        for (int i = 0; i < count; i++) sum = TLanes.FusedMultiplyAdd(TLanes.Load<T>(v, c + i * stride), TLanes.Broadcast(w[i]), sum);
        TLanes.Store(sum, o);
    }

    /// <summary>Columns [c, c + 64) of every position into registers held across the positions; o points at column c.</summary>
    private static void Columns512x4<T>(byte* v, long c, long stride, int count, float* w, float* o) where T : struct, AttentionScores.IKeys
    {
        Vector512<float> a0 = Vector512.Load(o), a1 = Vector512.Load(o + 16), a2 = Vector512.Load(o + 32), a3 = Vector512.Load(o + 48);
        for (int i = 0; i < count; i++)
        {
            var f = Vector512.Create(w[i]);
            long at = c + i * stride;
            a0 = Vector512.FusedMultiplyAdd(T.Load16(v, at), f, a0);
            a1 = Vector512.FusedMultiplyAdd(T.Load16(v, at + 16), f, a1);
            a2 = Vector512.FusedMultiplyAdd(T.Load16(v, at + 32), f, a2);
            a3 = Vector512.FusedMultiplyAdd(T.Load16(v, at + 48), f, a3);
        }
        a0.Store(o); a1.Store(o + 16); a2.Store(o + 32); a3.Store(o + 48);
    }

    /// <summary>The reference, over columns [from, headDim): o[c] = fma(v_i[c], w_i, o[c]) for each position i in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scalar<T>(byte* v, long stride, int count, int from, int headDim, float* w, float* o) where T : struct, AttentionScores.IKeys
    {
        for (int i = 0; i < count; i++)
            for (int c = from; c < headDim; c++) o[c] = MathF.FusedMultiplyAdd(T.Load1(v, c + i * stride), w[i], o[c]);
    }
}
