using System.Numerics.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// Causal multi-head attention over a batch of equal-length sequences, forward and backward.
/// Row t = b·T + i of q, k, v holds token i of sequence b; head h is columns [h·headDim, (h+1)·headDim).
/// Forward: S_ij = q_i·k_j/√d for j ≤ i, P = softmax_j(S), o_i = Σ_j P_ij v_j; P is saved (batch·heads, T, T).
/// Backward: dv_j = Σ_i P_ij do_i, dP_ij = do_i·v_j, dS_ij = P_ij(dP_ij − Σ_j' P_ij' dP_ij'),
/// dq_i = Σ_j dS_ij k_j/√d, dk_j = Σ_i dS_ij q_i/√d.
/// </summary>
public static class AttentionKernel
{
    /// <summary>Strided views of the attention inputs: (rows, stride) each, head columns as described above.</summary>
    public readonly record struct Layout(int Batch, int Sequence, int Heads, int HeadDim, int QueryStride, int KeyStride, int ValueStride, int OutputStride);

    /// <summary>Runs attention, writing o and the probabilities.</summary>
    public static unsafe void Forward(Layout l, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        Span<float> output, Span<float> probabilities, ComputePool pool)
    {
        int T = l.Sequence, hd = l.HeadDim;
        if (probabilities.Length < (long)l.Batch * l.Heads * T * T) throw new ArgumentException("probabilities must hold (batch·heads, T, T)");
        float scale = 1f / MathF.Sqrt(hd);
        fixed (float* pq = q, pk = k, pv = v, po = output, pp = probabilities)
        {
            float* qs = pq, ks = pk, vs = pv, os = po, ps = pp;
            ParallelRows.Run(pool, l.Batch * l.Heads, (start, end) =>
            {
                for (int item = start; item < end; item++)
                {
                    int b = item / l.Heads, h = item % l.Heads;
                    float* P = ps + (long)item * T * T;
                    for (int i = 0; i < T; i++)
                    {
                        long row = (long)b * T + i;
                        var qi = new ReadOnlySpan<float>(qs + row * l.QueryStride + h * hd, hd);
                        var scores = new Span<float>(P + (long)i * T, T);
                        for (int j = 0; j <= i; j++)
                            scores[j] = TensorPrimitives.Dot(qi, new ReadOnlySpan<float>(ks + ((long)b * T + j) * l.KeyStride + h * hd, hd)) * scale;
                        var live = scores[..(i + 1)];
                        TensorPrimitives.SoftMax(live, live);
                        scores[(i + 1)..].Clear();
                        var oi = new Span<float>(os + row * l.OutputStride + h * hd, hd);
                        oi.Clear();
                        for (int j = 0; j <= i; j++)
                            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(vs + ((long)b * T + j) * l.ValueStride + h * hd, hd), scores[j], oi, oi);
                    }
                }
            }, chunk: 1);
        }
    }

    /// <summary>Writes dq, dk and dv (same layouts as q, k, v) from dOutput and the saved probabilities.</summary>
    public static unsafe void Backward(Layout l, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> probabilities, Span<float> dq, Span<float> dk, Span<float> dv, ComputePool pool)
    {
        int T = l.Sequence, hd = l.HeadDim;
        float scale = 1f / MathF.Sqrt(hd);
        fixed (float* pdo = dOutput, pq = q, pk = k, pv = v, pp = probabilities, pdq = dq, pdk = dk, pdv = dv)
        {
            float* dos = pdo, qs = pq, ks = pk, vs = pv, ps = pp, dqs = pdq, dks = pdk, dvs = pdv;
            ParallelRows.Run(pool, l.Batch * l.Heads, (start, end) =>
            {
                var dScores = new float[T];
                for (int item = start; item < end; item++)
                {
                    int b = item / l.Heads, h = item % l.Heads;
                    float* P = ps + (long)item * T * T;
                    for (int j = 0; j < T; j++)
                    {
                        long row = (long)b * T + j;
                        new Span<float>(dks + row * l.KeyStride + h * hd, hd).Clear();
                        new Span<float>(dvs + row * l.ValueStride + h * hd, hd).Clear();
                    }
                    for (int i = 0; i < T; i++)
                    {
                        long rowI = (long)b * T + i;
                        var doi = new ReadOnlySpan<float>(dos + rowI * l.OutputStride + h * hd, hd);
                        var qi = new ReadOnlySpan<float>(qs + rowI * l.QueryStride + h * hd, hd);
                        var pi = new ReadOnlySpan<float>(P + (long)i * T, i + 1);
                        var ds = dScores.AsSpan(0, i + 1);
                        for (int j = 0; j <= i; j++)
                        {
                            long rowJ = (long)b * T + j;
                            ds[j] = TensorPrimitives.Dot(doi, new ReadOnlySpan<float>(vs + rowJ * l.ValueStride + h * hd, hd));
                            var dvj = new Span<float>(dvs + rowJ * l.ValueStride + h * hd, hd);
                            TensorPrimitives.MultiplyAdd(doi, pi[j], dvj, dvj);
                        }
                        float weighted = TensorPrimitives.Dot(pi, ds);
                        TensorPrimitives.Subtract(ds, weighted, ds);
                        TensorPrimitives.Multiply(ds, pi, ds);
                        TensorPrimitives.Multiply(ds, scale, ds);
                        var dqi = new Span<float>(dqs + rowI * l.QueryStride + h * hd, hd);
                        dqi.Clear();
                        for (int j = 0; j <= i; j++)
                        {
                            long rowJ = (long)b * T + j;
                            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(ks + rowJ * l.KeyStride + h * hd, hd), ds[j], dqi, dqi);
                            var dkj = new Span<float>(dks + rowJ * l.KeyStride + h * hd, hd);
                            TensorPrimitives.MultiplyAdd(qi, ds[j], dkj, dkj);
                        }
                    }
                }
            }, chunk: 1);
        }
    }
}
