using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dclm.Tensors.Ops;

/// <summary>The gated activation of SwiGLU feed-forward layers.</summary>
public static class SwiGlu
{
    /// <summary>destination_i = silu(gate_i) · up_i, where silu(z) = z / (1 + e^(−z)). Destination may be gate or up itself.</summary>
    public static void Apply(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> destination)
    {
        if (up.Length != gate.Length || destination.Length < gate.Length) throw new ArgumentException("gate, up and destination must have the same length");
        // One fused pass: each element is read before its destination is written, so aliasing is safe.
        ref float g = ref MemoryMarshal.GetReference(gate);
        ref float u = ref MemoryMarshal.GetReference(up);
        ref float d = ref MemoryMarshal.GetReference(destination);
        int n = gate.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var z = Vector512.LoadUnsafe(ref g, (nuint)i);
                (z / (Vector512<float>.One + Vector512.Exp(-z)) * Vector512.LoadUnsafe(ref u, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var z = Vector256.LoadUnsafe(ref g, (nuint)i);
                (z / (Vector256<float>.One + Vector256.Exp(-z)) * Vector256.LoadUnsafe(ref u, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        for (; i < n; i++)
        {
            float z = Unsafe.Add(ref g, i);
            Unsafe.Add(ref d, i) = z / (1f + MathF.Exp(-z)) * Unsafe.Add(ref u, i);
        }
    }
}
