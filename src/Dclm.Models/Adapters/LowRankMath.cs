using System.Runtime.Intrinsics;

namespace Dclm.Models.Adapters;

/// <summary>
/// The arithmetic of a served adapter's update, y += s·B·(A·x), in one fixed order, so every backend that serves adapters
/// adds the same bits (the GPU backend's adapter kernel follows it step for step): a quantized base re-quantizes the
/// activations after each product, and an ulp of difference there can flip a Q8_0 level.
/// </summary>
public static class LowRankMath
{
    /// <summary>
    /// Σ_i a_i·x_i in eight chains: chain j = fma(a_i, x_i, chain j) over i = j, j + 8, j + 16, ... in order, from 0, then
    /// ((c0 + c4) + (c2 + c6)) + ((c1 + c5) + (c3 + c7)).
    /// </summary>
    public static float ChainedDot(ReadOnlySpan<float> a, ReadOnlySpan<float> x)
    {
        if (a.Length != x.Length) throw new ArgumentException($"a has {a.Length} values and x {x.Length}");
        var chains = Vector256<float>.Zero;
        int i = 0;
        for (; i + 8 <= a.Length; i += 8) chains = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(i, 8)), Vector256.Create(x.Slice(i, 8)), chains);
        Span<float> c = stackalloc float[8];
        chains.CopyTo(c);
        for (int j = 0; i < a.Length; i++, j++) c[j] = MathF.FusedMultiplyAdd(a[i], x[i], c[j]);
        return ((c[0] + c[4]) + (c[2] + c[6])) + ((c[1] + c[5]) + (c[3] + c[7]));
    }

    /// <summary>
    /// y += s·B·(A·x) for one update: h_k = s·<see cref="ChainedDot"/>(A_k, x), then y_o = fma(h_k, Bᵀ[k, o], y_o) for
    /// k = 0, 1, ... in order. A (rank, inputs), Bᵀ (rank, y's width); <paramref name="h"/> holds at least rank values.
    /// </summary>
    public static void AddUpdate(ReadOnlySpan<float> a, ReadOnlySpan<float> bTransposed, int rank, float scale, ReadOnlySpan<float> x, Span<float> h, Span<float> y)
    {
        int inputs = x.Length, width = y.Length;
        for (int k = 0; k < rank; k++) h[k] = scale * ChainedDot(a.Slice(k * inputs, inputs), x);
        for (int k = 0; k < rank; k++)
            System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(bTransposed.Slice(k * width, width), h[k], y, y);
    }
}
