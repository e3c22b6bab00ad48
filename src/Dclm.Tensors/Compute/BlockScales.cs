using System.Runtime.CompilerServices;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The combined scale d_w[b]·d_a[b] of each block of a row, computed for a run of blocks ahead of the
/// integer loop so that loop needs no scalar half conversions.
/// </summary>
internal static unsafe class BlockScales
{
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
}
