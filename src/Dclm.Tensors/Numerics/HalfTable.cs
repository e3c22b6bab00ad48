using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dclm.Tensors.Numerics;

/// <summary>
/// Every half's float value in one 256 KiB table, the way ggml converts block scales on processors
/// without F16C (which .NET does not expose): one load instead of a dozen integer instructions per
/// block. Block scales of one matrix cluster in a few exponents, so the lines touched stay cached.
/// </summary>
internal static unsafe class HalfTable
{
    private static readonly float* Values = Build();

    private static float* Build()
    {
        var values = (float*)NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int i = 0; i < 65536; i++) values[i] = HalfConversion.ToSingle((ushort)i);
        return values;
    }

    /// <summary>The float value of the half whose bits are <paramref name="bits"/>, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => Values[bits];
}
