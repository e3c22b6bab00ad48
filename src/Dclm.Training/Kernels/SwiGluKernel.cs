using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// SwiGLU over rows laid out as [gate (hidden) | up (hidden)]: h = silu(g) ⊙ u with silu(g) = g·σ(g).
/// Backward: dg = dh ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))), du = dh ⊙ silu(g).
/// </summary>
public static class SwiGluKernel
{
    /// <summary>h (rows, hidden) from gateUp (rows, 2·hidden).</summary>
    public static unsafe void Forward(ReadOnlySpan<float> gateUp, int rows, int hidden, Span<float> h, ComputePool pool)
    {
        if (gateUp.Length < 2L * rows * hidden || h.Length < (long)rows * hidden) throw new ArgumentException("buffers too small for the rows");
        fixed (float* pgu = gateUp, ph = h)
        {
            float* gus = pgu, hs = ph;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    float* g = gus + 2L * t * hidden, u = g + hidden, o = hs + (long)t * hidden;
                    for (int i = 0; i < hidden; i++)
                    {
                        float sigmoid = 1f / (1f + MathF.Exp(-g[i]));
                        o[i] = g[i] * sigmoid * u[i];
                    }
                }
            });
        }
    }

    /// <summary>dGateUp (rows, 2·hidden) from dh (rows, hidden) and the saved gateUp.</summary>
    public static unsafe void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> gateUp, int rows, int hidden, Span<float> dGateUp, ComputePool pool)
    {
        if (gateUp.Length < 2L * rows * hidden || dGateUp.Length < 2L * rows * hidden || dh.Length < (long)rows * hidden) throw new ArgumentException("buffers too small for the rows");
        fixed (float* pdh = dh, pgu = gateUp, pd = dGateUp)
        {
            float* dhs = pdh, gus = pgu, ds = pd;
            ParallelRows.Run(pool, rows, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    float* g = gus + 2L * t * hidden, u = g + hidden, dg = ds + 2L * t * hidden, du = dg + hidden, d = dhs + (long)t * hidden;
                    for (int i = 0; i < hidden; i++)
                    {
                        float sigmoid = 1f / (1f + MathF.Exp(-g[i]));
                        float silu = g[i] * sigmoid;
                        dg[i] = d[i] * u[i] * sigmoid * (1f + g[i] * (1f - sigmoid));
                        du[i] = d[i] * silu;
                    }
                }
            });
        }
    }
}
