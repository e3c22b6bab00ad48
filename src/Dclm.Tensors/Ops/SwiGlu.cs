namespace Dclm.Tensors.Ops;

/// <summary>The gated activation of SwiGLU feed-forward layers.</summary>
public static class SwiGlu
{
    /// <summary>destination_i = silu(gate_i) · up_i, where silu(z) = z / (1 + e^(−z)).</summary>
    public static void Apply(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> destination)
    {
        if (up.Length != gate.Length || destination.Length < gate.Length) throw new ArgumentException("gate, up and destination must have the same length");
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            destination[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }
}
