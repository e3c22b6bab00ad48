using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace Dclm.Tensors.Compute;

/// <summary>
/// How a one-row kernel reads the f16 scales of a group of eight consecutive Q8_0 or Q4_0 blocks
/// (each block's first two bytes), as eight 32-bit lanes with the half in the upper 16 bits
/// (see <see cref="BlockGroups.HalvesToSingle"/>). The choice changes speed only, never a bit of the result.
/// </summary>
internal unsafe interface IGroupScales
{
    /// <summary>The scales of the eight blocks of <paramref name="blockBytes"/> bytes (18 or 34) starting at <paramref name="group"/>.</summary>
    static abstract Vector256<uint> Read(byte* group, int blockBytes);
}

/// <summary>AVX2: one vpgatherdd of the eight dwords that start at the scales.</summary>
internal readonly unsafe struct GatheredScales : IGroupScales
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Read(byte* group, int blockBytes)
    {
        Vector256<int> at = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * blockBytes;
        return X86.Avx2.GatherVector256((int*)group, at, 1).AsUInt32() << 16;
    }
}

/// <summary>
/// AVX-512 BW: the group's bytes as 64-byte vectors and one two-table word permute (vpermt2w) per 128
/// bytes picks the scales out; a few cheap instructions where a gather is microcoded on Zen 4.
/// </summary>
internal readonly unsafe struct PermutedScales : IGroupScales
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Read(byte* group, int blockBytes)
    {
        if (blockBytes == 18)
        {
            // Scales at words 0, 9, ..., 63 of the group's first 128 bytes.
            Vector512<ushort> at = Vector512.Create((ushort)0, 0, 9, 9, 18, 18, 27, 27, 36, 36, 45, 45, 54, 54, 63, 63,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            return X86.Avx512BW.PermuteVar32x16x2(Vector512.Load((ushort*)group), at, Vector512.Load((ushort*)(group + 64))).AsUInt32().GetLower();
        }
        // Q8_0: scales at words 0, 17, 34, 51 of the first 128 bytes and 4, 21, 38, 55 of the next 128.
        Vector512<ushort> first = Vector512.Create((ushort)0, 0, 17, 17, 34, 34, 51, 51, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<ushort> second = Vector512.Create((ushort)0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 21, 21, 38, 38, 55, 55,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector256<int> low = X86.Avx512BW.PermuteVar32x16x2(Vector512.Load((ushort*)group), first, Vector512.Load((ushort*)(group + 64))).AsInt32().GetLower();
        Vector256<int> high = X86.Avx512BW.PermuteVar32x16x2(Vector512.Load((ushort*)(group + 128)), second, Vector512.Load((ushort*)(group + 192))).AsInt32().GetLower();
        return X86.Avx2.Blend(low, high, 0b1111_0000).AsUInt32();
    }
}
