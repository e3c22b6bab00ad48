using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// SwiGLU over rows: h = silu(g) ⊙ u with silu(g) = g·σ(g), for gate g and up u (rows, hidden) each.
/// Backward: dg = dh ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))), du = dh ⊙ silu(g).
/// </summary>
public static class SwiGluKernel
{
    /// <summary>h (rows, hidden) from gate and up (rows, hidden).</summary>
    public static unsafe void Forward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, int rows, int hidden, Span<float> h, ComputePool pool)
    {
        long n = (long)rows * hidden;
        if (gate.Length < n || up.Length < n || h.Length < n) throw new ArgumentException("buffers too small for the rows");
        fixed (float* pg = gate, pu = up, ph = h)
        {
            float* gs = pg, us = pu, hs = ph;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                for (long i = (long)start * hidden; i < (long)end * hidden; i++)
                {
                    float sigmoid = 1f / (1f + MathF.Exp(-gs[i]));
                    hs[i] = gs[i] * sigmoid * us[i];
                }
            });
        }
    }

    /// <summary>dGate and dUp (rows, hidden) from dh (rows, hidden) and the saved gate and up.</summary>
    public static unsafe void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> gate, ReadOnlySpan<float> up, int rows, int hidden,
        Span<float> dGate, Span<float> dUp, ComputePool pool)
    {
        long n = (long)rows * hidden;
        if (dh.Length < n || gate.Length < n || up.Length < n || dGate.Length < n || dUp.Length < n) throw new ArgumentException("buffers too small for the rows");
        fixed (float* pdh = dh, pg = gate, pu = up, pdg = dGate, pdu = dUp)
        {
            float* dhs = pdh, gs = pg, us = pu, dgs = pdg, dus = pdu;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                for (long i = (long)start * hidden; i < (long)end * hidden; i++)
                {
                    float g = gs[i], sigmoid = 1f / (1f + MathF.Exp(-g)), silu = g * sigmoid;
                    dgs[i] = dhs[i] * us[i] * sigmoid * (1f + g * (1f - sigmoid));
                    dus[i] = dhs[i] * silu;
                }
            });
        }
    }
}
