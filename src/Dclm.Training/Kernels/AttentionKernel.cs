using System.Numerics.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Training.Kernels;

/// <summary>
/// Causal multi-head attention over a batch of equal-length sequences, forward and backward, with
/// grouped-query heads and packed documents. Row t = b·T + i of q, k, v holds token i of sequence b; head h
/// is columns [h·headDim, (h+1)·headDim) of q, and query head h reads key/value head h / (heads / kvHeads).
/// Row i attends to rows j in [s_i, i] of its sequence, where s_i is where its document starts (0 without
/// packing), so documents packed into one sequence never see each other; with a sliding window W, s_i is at
/// least i − W + 1.
/// Forward: S_ij = q_i·k_j/√d − m_h·(i − j), P = softmax_j(S), o_i = Σ_j P_ij v_j; P is saved (batch·heads, T, T).
/// m_h is head h's ALiBi slope, or 0 without a position bias. The bias is a constant, so the backward pass is the
/// same with or without it: it acts only through the saved P.
/// Backward: dv_j = Σ_i P_ij do_i, dP_ij = do_i·v_j, dS_ij = P_ij(dP_ij − Σ_j' P_ij' dP_ij'),
/// dq_i = Σ_j dS_ij k_j/√d, dk_j = Σ_i dS_ij q_i/√d.
/// </summary>
public static class AttentionKernel
{
    /// <summary>Strided views of the attention inputs: (rows, stride) each, head columns as described above.</summary>
    public readonly record struct Layout(int Batch, int Sequence, int Heads, int KeyValueHeads, int HeadDim, int QueryStride, int KeyStride, int ValueStride, int OutputStride)
    {
        /// <summary>Query heads per key/value head.</summary>
        public int Group => Heads / KeyValueHeads;
        /// <summary>Sliding window W: row i sees rows j ≥ i − W + 1 only. 0 = the whole causal past.</summary>
        public int Window { get; init; }
        /// <summary>ALiBi slopes m_h, one per query head, subtracted as m_h·(i − j) from the scores; null = no bias.</summary>
        public float[]? Slopes { get; init; }

        /// <summary>The first row row <paramref name="i"/> sees, given where its document starts.</summary>
        public int FirstVisible(int i, int documentStart) => Window > 0 ? Math.Max(documentStart, i - Window + 1) : documentStart;
    }

    /// <summary>Runs attention, writing o and the probabilities. <paramref name="documentStarts"/>: s_t per row, or empty for plain causal attention.</summary>
    public static unsafe void Forward(Layout l, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        Span<float> output, Span<float> probabilities, ComputePool pool, ReadOnlySpan<int> documentStarts = default)
    {
        int T = l.Sequence, hd = l.HeadDim, group = Check(l, probabilities.Length, documentStarts.Length);
        float scale = 1f / MathF.Sqrt(hd);
        fixed (float* pq = q, pk = k, pv = v, po = output, pp = probabilities)
        fixed (int* pstarts = documentStarts)
        {
            float* qs = pq, ks = pk, vs = pv, os = po, ps = pp;
            int* starts = documentStarts.IsEmpty ? null : pstarts;
            ParallelRows.Run(pool, l.Batch * l.Heads, (first, end) =>
            {
                for (int item = first; item < end; item++)
                {
                    int b = item / l.Heads, h = item % l.Heads, kvHead = h / group;
                    float slope = l.Slopes?[h] ?? 0;
                    float* P = ps + (long)item * T * T;
                    for (int i = 0; i < T; i++)
                    {
                        long row = (long)b * T + i;
                        int start = l.FirstVisible(i, starts == null ? 0 : starts[row]);
                        var qi = new ReadOnlySpan<float>(qs + row * l.QueryStride + h * hd, hd);
                        var scores = new Span<float>(P + (long)i * T, T);
                        scores.Clear();
                        for (int j = start; j <= i; j++)
                            scores[j] = TensorPrimitives.Dot(qi, new ReadOnlySpan<float>(ks + ((long)b * T + j) * l.KeyStride + kvHead * hd, hd)) * scale - slope * (i - j);
                        var live = scores[start..(i + 1)];
                        TensorPrimitives.SoftMax(live, live);
                        var oi = new Span<float>(os + row * l.OutputStride + h * hd, hd);
                        oi.Clear();
                        for (int j = start; j <= i; j++)
                            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(vs + ((long)b * T + j) * l.ValueStride + kvHead * hd, hd), scores[j], oi, oi);
                    }
                }
            }, chunk: 1);
        }
    }

    /// <summary>Writes dq, dk and dv (same layouts as q, k, v) from dOutput and the saved probabilities.</summary>
    public static unsafe void Backward(Layout l, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> probabilities, Span<float> dq, Span<float> dk, Span<float> dv, ComputePool pool, ReadOnlySpan<int> documentStarts = default)
    {
        int T = l.Sequence, hd = l.HeadDim, group = Check(l, probabilities.Length, documentStarts.Length);
        float scale = 1f / MathF.Sqrt(hd);
        fixed (float* pdo = dOutput, pq = q, pk = k, pv = v, pp = probabilities, pdq = dq, pdk = dk, pdv = dv)
        fixed (int* pstarts = documentStarts)
        {
            float* dos = pdo, qs = pq, ks = pk, vs = pv, ps = pp, dqs = pdq, dks = pdk, dvs = pdv;
            int* starts = documentStarts.IsEmpty ? null : pstarts;
            // One item per (sequence, key/value head): the query heads of a group all add into its dk and dv.
            ParallelRows.Run(pool, l.Batch * l.KeyValueHeads, (first, end) =>
            {
                var dScores = new float[T];
                for (int item = first; item < end; item++)
                {
                    int b = item / l.KeyValueHeads, kvHead = item % l.KeyValueHeads;
                    for (int j = 0; j < T; j++)
                    {
                        long row = (long)b * T + j;
                        new Span<float>(dks + row * l.KeyStride + kvHead * hd, hd).Clear();
                        new Span<float>(dvs + row * l.ValueStride + kvHead * hd, hd).Clear();
                    }
                    for (int h = kvHead * group; h < (kvHead + 1) * group; h++)
                    {
                        float* P = ps + ((long)b * l.Heads + h) * T * T;
                        for (int i = 0; i < T; i++)
                        {
                            long rowI = (long)b * T + i;
                            int start = l.FirstVisible(i, starts == null ? 0 : starts[rowI]);
                            var doi = new ReadOnlySpan<float>(dos + rowI * l.OutputStride + h * hd, hd);
                            var qi = new ReadOnlySpan<float>(qs + rowI * l.QueryStride + h * hd, hd);
                            var pi = new ReadOnlySpan<float>(P + (long)i * T + start, i + 1 - start);
                            var ds = dScores.AsSpan(0, i + 1 - start);
                            for (int j = start; j <= i; j++)
                            {
                                long rowJ = (long)b * T + j;
                                ds[j - start] = TensorPrimitives.Dot(doi, new ReadOnlySpan<float>(vs + rowJ * l.ValueStride + kvHead * hd, hd));
                                var dvj = new Span<float>(dvs + rowJ * l.ValueStride + kvHead * hd, hd);
                                TensorPrimitives.MultiplyAdd(doi, pi[j - start], dvj, dvj);
                            }
                            float weighted = TensorPrimitives.Dot(pi, ds);
                            TensorPrimitives.Subtract(ds, weighted, ds);
                            TensorPrimitives.Multiply(ds, pi, ds);
                            TensorPrimitives.Multiply(ds, scale, ds);
                            var dqi = new Span<float>(dqs + rowI * l.QueryStride + h * hd, hd);
                            dqi.Clear();
                            for (int j = start; j <= i; j++)
                            {
                                long rowJ = (long)b * T + j;
                                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(ks + rowJ * l.KeyStride + kvHead * hd, hd), ds[j - start], dqi, dqi);
                                var dkj = new Span<float>(dks + rowJ * l.KeyStride + kvHead * hd, hd);
                                TensorPrimitives.MultiplyAdd(qi, ds[j - start], dkj, dkj);
                            }
                        }
                    }
                }
            }, chunk: 1);
        }
    }

    private static int Check(Layout l, int probabilities, int starts)
    {
        if (l.KeyValueHeads <= 0 || l.Heads % l.KeyValueHeads != 0) throw new ArgumentException($"key/value heads {l.KeyValueHeads} must divide heads {l.Heads}");
        if (probabilities < (long)l.Batch * l.Heads * l.Sequence * l.Sequence) throw new ArgumentException("probabilities must hold (batch·heads, T, T)");
        if (starts != 0 && starts < l.Batch * l.Sequence) throw new ArgumentException("document starts need one value per row");
        if (l.Window < 0) throw new ArgumentException($"sliding window {l.Window} must be 0 (off) or positive");
        if (l.Slopes is { } slopes && slopes.Length < l.Heads) throw new ArgumentException($"{slopes.Length} ALiBi slopes for {l.Heads} heads");
        return l.Group;
    }
}
