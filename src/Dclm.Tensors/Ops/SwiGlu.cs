using System.Numerics.Tensors;

namespace Dclm.Tensors.Ops;

/// <summary>The gated activation of SwiGLU feed-forward layers.</summary>
public static class SwiGlu
{
    /// <summary>destination_i = silu(gate_i) · up_i, where silu(z) = z / (1 + e^(−z)). Destination may be gate itself.</summary>
    public static void Apply(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> destination)
    {
        if (up.Length != gate.Length || destination.Length < gate.Length) throw new ArgumentException("gate, up and destination must have the same length");
        // Vectorized in chunks through a stack buffer, so destination may alias gate or up.
        Span<float> buffer = stackalloc float[256];
        for (int start = 0; start < gate.Length; start += buffer.Length)
        {
            int count = Math.Min(buffer.Length, gate.Length - start);
            var g = gate.Slice(start, count);
            var b = buffer[..count];
            TensorPrimitives.Negate(g, b);
            TensorPrimitives.Exp(b, b);
            TensorPrimitives.Add(b, 1f, b);
            TensorPrimitives.Divide(g, b, b);
            TensorPrimitives.Multiply(b, up.Slice(start, count), destination.Slice(start, count));
        }
    }
}
