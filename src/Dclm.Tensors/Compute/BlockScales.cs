using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The combined scale d_w[b]·d_a[b] of each block of a row, computed for a run of blocks ahead of the
/// integer loop so that loop needs no scalar half conversions and one multiply less per block.
/// Every Q8_0/Q4_0 kernel, one token or many, scales a block's integer sum by this same float
/// product, so a token's result does not depend on which kernel computed it.
/// </summary>
internal static unsafe class BlockScales
{
    /// <summary>Blocks whose combined scales a kernel computes at a time (a few KB of stack for eight tokens).</summary>
    public const int Run = 64;

    /// <summary>
    /// destination[i] = half(weight + i·stride)·activationScales[i] for i in [0, count). Scalar table
    /// lookups on purpose: a call in a kernel makes the JIT spill every vector register around it, and
    /// gathering the scales (vpgatherdd) measured slower than this loop on Zen 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Combine(byte* weight, int stride, float* activationScales, int count, float* destination)
    {
        for (int i = 0; i < count; i++)
            destination[i] = HalfTable.ToSingle(*(ushort*)(weight + i * stride)) * activationScales[i];
    }

    /// <summary>
    /// The combined scales of one weight row's run of <paramref name="count"/> blocks against
    /// <paramref name="tokens"/> activation rows: destination[k·<see cref="Run"/> + i] =
    /// half(weight + i·stride)·scales_k[i], where scales_k = firstScales + k·tokenStride bytes. The
    /// weight scales are widened once for all tokens; the products are the same IEEE multiplies as
    /// <see cref="Combine"/>'s, eight at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CombineTokens(byte* weight, int stride, byte* firstScales, nuint tokenStride, int tokens, int count, float* weightScales, float* destination)
    {
        for (int i = 0; i < count; i++) weightScales[i] = HalfTable.ToSingle(*(ushort*)(weight + i * stride));
        for (int k = 0; k < tokens; k++)
        {
            float* scales = (float*)(firstScales + (nuint)k * tokenStride);
            float* target = destination + k * Run;
            int i = 0;
            for (; i + 8 <= count; i += 8)
                (Vector256.Load(weightScales + i) * Vector256.Load(scales + i)).Store(target + i);
            for (; i < count; i++) target[i] = weightScales[i] * scales[i];
        }
    }
}
