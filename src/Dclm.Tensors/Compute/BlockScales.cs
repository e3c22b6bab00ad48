using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// The combined scale d_w[b]·d_a[b] of each block of a row, computed for a run of blocks ahead of the
/// integer loop so that loop needs no scalar half conversions.
/// </summary>
internal static unsafe class BlockScales
{
    /// <summary>
    /// destination[i] = half(weight + i·stride)·activationScales[i] for i in [0, count). Sixteen f16
    /// scales are gathered at a time (each 4-byte read stays inside its block); the scalar tail is
    /// branch-free so no call, and no vector spill, enters the kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Combine(byte* weight, int stride, float* activationScales, int count, float* destination)
    {
        int i = 0;
        if (X86.Avx2.IsSupported && Vector512.IsHardwareAccelerated)
        {
            Vector256<int> offsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * stride;
            for (; i + 16 <= count; i += 16)
            {
                Vector256<int> low = X86.Avx2.GatherVector256((int*)(weight + i * stride), offsets, 1);
                Vector256<int> high = X86.Avx2.GatherVector256((int*)(weight + (i + 8) * stride), offsets, 1);
                Vector512<uint> halves = low.ToVector512Unsafe().WithUpper(high).AsUInt32() & Vector512.Create(0xFFFFu);
                Vector512.Store(HalfConversion.FromLanes(halves) * Vector512.Load(activationScales + i), destination + i);
            }
        }
        for (; i < count; i++)
            destination[i] = HalfConversion.ToSingleFast(*(ushort*)(weight + i * stride)) * activationScales[i];
    }
}
