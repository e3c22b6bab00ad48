using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Ops;

/// <summary>How rotary position embedding pairs up the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>GPT-NeoX / open_lm / Hugging Face: dimension i pairs with i + headDim/2 ("rotate_half").</summary>
    HalfSplit,
    /// <summary>Original RoPE / GGUF llama: dimension 2i pairs with 2i + 1.</summary>
    AdjacentPairs,
}

/// <summary>
/// Rotary position embedding. For pair (a, b) with frequency f_i = inverseFrequency[i] and angle
/// θ = position · f_i: a' = a cos θ − b sin θ, b' = a sin θ + b cos θ.
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>The standard frequencies f_i = theta^(−2i/headDim) for i in [0, headDim/2).</summary>
    public static float[] InverseFrequencies(int headDim, double theta)
    {
        var result = new float[headDim / 2];
        for (int i = 0; i < result.Length; i++) result[i] = (float)(1.0 / Math.Pow(theta, 2.0 * i / headDim));
        return result;
    }

    /// <summary>
    /// Fills cos and sin tables, each (headDim/2), for one position. The angle is computed in float
    /// (position · f_i rounded to float) as PyTorch does, then cos/sin in double.
    /// </summary>
    public static void Angles(int position, ReadOnlySpan<float> inverseFrequency, Span<float> cos, Span<float> sin)
    {
        for (int i = 0; i < inverseFrequency.Length; i++)
        {
            float angle = position * inverseFrequency[i];
            cos[i] = (float)Math.Cos(angle);
            sin[i] = (float)Math.Sin(angle);
        }
    }

    /// <summary>Rotates every head of <paramref name="heads"/> (heads, headDim) in place.</summary>
    public static void Apply(Span<float> heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, RopeStyle style)
    {
        int half = headDim / 2;
        if (cos.Length < half || sin.Length < half) throw new ArgumentException($"cos and sin need {half} angles for heads of {headDim}");
        for (int offset = 0; offset + headDim <= heads.Length; offset += headDim)
        {
            var head = heads.Slice(offset, headDim);
            int start = 0;
            if (style == RopeStyle.HalfSplit && Vector256.IsHardwareAccelerated)
            {
                // The halves are contiguous, so whole vectors rotate at once; multiplies and subtracts
                // (not fused) give the scalar loop's bits.
                ref float a = ref MemoryMarshal.GetReference(head);
                ref float b = ref Unsafe.Add(ref a, half);
                ref float c = ref MemoryMarshal.GetReference(cos);
                ref float s = ref MemoryMarshal.GetReference(sin);
                for (; start + 8 <= half; start += 8)
                {
                    var va = Vector256.LoadUnsafe(ref a, (nuint)start);
                    var vb = Vector256.LoadUnsafe(ref b, (nuint)start);
                    var vc = Vector256.LoadUnsafe(ref c, (nuint)start);
                    var vs = Vector256.LoadUnsafe(ref s, (nuint)start);
                    (va * vc - vb * vs).StoreUnsafe(ref a, (nuint)start);
                    (va * vs + vb * vc).StoreUnsafe(ref b, (nuint)start);
                }
            }
            for (int i = start; i < half; i++)
            {
                int ia = style == RopeStyle.HalfSplit ? i : 2 * i;
                int ib = style == RopeStyle.HalfSplit ? i + half : 2 * i + 1;
                float a = head[ia], b = head[ib];
                head[ia] = a * cos[i] - b * sin[i];
                head[ib] = a * sin[i] + b * cos[i];
            }
        }
    }
}
