using Dclm.Models;

namespace Dclm.Training.Tests;

/// <summary>
/// A plain float64 open_lm forward with the loss, written straight from the math with no shared code
/// beyond the parameter names, so finite differences of it check the whole model's backward. The
/// parameters are one flat float64 array, tensors in checkpoint order (<see cref="Flatten"/>).
/// </summary>
internal static class ReferenceModel
{
    /// <summary>Every tensor's values, one after another, and where each starts.</summary>
    public static (double[] Values, Dictionary<ParameterTensor, int> Offsets) Flatten(IReadOnlyList<ParameterTensor> tensors)
    {
        var offsets = new Dictionary<ParameterTensor, int>();
        var values = new List<double>();
        foreach (var t in tensors)
        {
            offsets[t] = values.Count;
            values.AddRange(t.Values.Select(v => (double)v));
        }
        return (values.ToArray(), offsets);
    }

    public static double Loss(ModelParameters layout, Dictionary<ParameterTensor, int> offsets, double[] p, int[] inputs, int[] targets, int batch, int sequence, double zLoss)
    {
        int Offset(ParameterTensor t) => offsets[t];
        var c = layout.Config;
        int d = c.Dim, h = c.HiddenDim, heads = c.Heads, hd = c.HeadDim, v = c.VocabularySize;
        var frequencies = Dclm.Tensors.Ops.RotaryEmbedding.InverseFrequencies(hd, c.RopeTheta);
        double total = 0; int counted = 0;
        for (int b = 0; b < batch; b++)
        {
            var x = new double[sequence][];
            for (int t = 0; t < sequence; t++) x[t] = Row(p, Offset(layout.Embedding) + inputs[b * sequence + t] * d, d);
            foreach (var w in layout.Layers)
            {
                var q = new double[sequence][]; var k = new double[sequence][]; var val = new double[sequence][];
                for (int t = 0; t < sequence; t++)
                {
                    var n = Norm(x[t], p, Offset(w.AttentionNorm), c.NormEps);
                    var qkv = Linear(n, p, Offset(w.InProjection), 3 * d, d);
                    q[t] = qkv[..d]; k[t] = qkv[d..(2 * d)]; val[t] = qkv[(2 * d)..];
                    if (w.QueryNorm is { } qn) q[t] = Norm(q[t], p, Offset(qn), c.NormEps);
                    if (w.KeyNorm is { } kn) k[t] = Norm(k[t], p, Offset(kn), c.NormEps);
                    if (c.UsesRotary) { Rotate(q[t], t, hd, frequencies); Rotate(k[t], t, hd, frequencies); }
                }
                for (int t = 0; t < sequence; t++)
                {
                    var attention = new double[d];
                    for (int head = 0; head < heads; head++)
                    {
                        // A sliding window hides j < t − W + 1; ALiBi (power-of-two heads: m_h = 2^(−8(h+1)/H)) adds −m_h·(t − j).
                        int first = c.SlidingWindow > 0 ? Math.Max(0, t - c.SlidingWindow + 1) : 0;
                        double slope = c.UsesAlibi ? Math.Pow(2, -8.0 * (head + 1) / heads) : 0;
                        var s = new double[t + 1];
                        Array.Fill(s, double.NegativeInfinity, 0, first);
                        for (int j = first; j <= t; j++)
                        {
                            for (int i = 0; i < hd; i++) s[j] += q[t][head * hd + i] * k[j][head * hd + i];
                            s[j] = s[j] / Math.Sqrt(hd) - slope * (t - j);
                        }
                        double max = s.Max(), sum = s.Sum(z => Math.Exp(z - max));
                        for (int j = first; j <= t; j++)
                            for (int i = 0; i < hd; i++) attention[head * hd + i] += Math.Exp(s[j] - max) / sum * val[j][head * hd + i];
                    }
                    var o = Linear(attention, p, Offset(w.OutProjection), d, d);
                    for (int i = 0; i < d; i++) x[t][i] += o[i];
                }
                for (int t = 0; t < sequence; t++)
                {
                    var n = Norm(x[t], p, Offset(w.FeedForwardNorm), c.NormEps);
                    var gu = Linear(n, p, Offset(w.GateUp), 2 * h, d);
                    var hidden = new double[h];
                    for (int i = 0; i < h; i++) hidden[i] = gu[i] / (1 + Math.Exp(-gu[i])) * gu[h + i];
                    var down = Linear(hidden, p, Offset(w.Down), d, h);
                    for (int i = 0; i < d; i++) x[t][i] += down[i];
                }
            }
            for (int t = 0; t < sequence; t++)
            {
                int target = targets[b * sequence + t];
                if (target < 0) continue;
                var logits = Linear(Norm(x[t], p, Offset(layout.FinalNorm), c.NormEps), p, Offset(layout.Head), v, d);
                double max = logits.Max(), z = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
                total += z - logits[target] + zLoss * z * z;
                counted++;
            }
        }
        return total / counted;
    }

    private static double[] Row(double[] p, int offset, int length) => p.AsSpan(offset, length).ToArray();

    private static double[] Norm(double[] x, double[] p, int gainOffset, double eps)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + eps) * p[gainOffset + i]).ToArray();
    }

    private static double[] Linear(double[] x, double[] p, int offset, int rows, int columns)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) y[r] += p[offset + r * columns + c] * x[c];
        return y;
    }

    private static void Rotate(double[] x, int position, int headDim, float[] frequencies)
    {
        int half = headDim / 2;
        for (int offset = 0; offset < x.Length; offset += headDim)
            for (int i = 0; i < half; i++)
            {
                double angle = (float)(position * frequencies[i]);
                double a = x[offset + i], b = x[offset + i + half];
                x[offset + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                x[offset + i + half] = a * Math.Sin(angle) + b * Math.Cos(angle);
            }
    }
}
