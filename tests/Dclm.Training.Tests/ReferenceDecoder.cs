using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;
using Dclm.Training.FineTuning;
using Dclm.Models.Adapters;

namespace Dclm.Training.Tests;

/// <summary>
/// A plain float64 decoder (open_lm, Llama, Qwen2/3 graphs) over a frozen base's dequantized weights plus LoRA
/// adapters whose values come from one flat array, written from the math with nothing shared with the training
/// code beyond reading the stored weights, so finite differences of its loss check the training backward.
/// </summary>
internal sealed class ReferenceDecoder(ModelConfig c, ModelWeights weights, LoraAdapters adapters)
{
    private readonly Dictionary<nint, double[]> _dequantized = [];

    /// <summary>Offsets of every adapter tensor in the flat value array, in <see cref="LoraAdapters.Parameters"/> order.</summary>
    public Dictionary<ParameterTensor, int> Offsets { get; } = Flat(adapters.Parameters);

    /// <summary>The adapters' current values, flat.</summary>
    public double[] Values() => adapters.Parameters.SelectMany(p => p.Values.Select(v => (double)v)).ToArray();

    public double Loss(double[] p, int[] inputs, int[] targets, bool[]? mask, int batch, int sequence, int[]? starts)
    {
        double total = 0; int counted = 0;
        for (int b = 0; b < batch; b++)
        {
            var x = Residual(p, inputs, b, sequence, starts);
            for (int t = 0; t < sequence; t++)
            {
                int target = targets[b * sequence + t];
                if (target < 0 || mask is not null && !mask[b * sequence + t]) continue;
                var logits = Linear(weights.Output, Norm(c.Norm, x[t], weights.FinalNorm));
                double max = logits.Max(), z = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
                total += z - logits[target];
                counted++;
            }
        }
        return total / counted;
    }

    /// <summary>The final hidden states (after the final norm) of one sequence. (sequence, dim)</summary>
    public double[][] Hidden(double[] p, int[] inputs)
    {
        var x = Residual(p, inputs, 0, inputs.Length, null);
        return x.Select(row => Norm(c.Norm, row, weights.FinalNorm)).ToArray();
    }

    /// <summary>log p(tokens[t + 1] | tokens[..t]) for every t of one sequence, from the LM head's softmax. (tokens − 1)</summary>
    public double[] LogProbabilities(double[] p, int[] tokens)
    {
        var hidden = Hidden(p, tokens);
        var result = new double[tokens.Length - 1];
        for (int t = 0; t + 1 < tokens.Length; t++)
        {
            var logits = Linear(weights.Output, hidden[t]);
            double max = logits.Max(), z = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            result[t] = logits[tokens[t + 1]] - z;
        }
        return result;
    }

    /// <summary>The residual stream after the last block, for sequence b of the batch. (sequence, dim)</summary>
    private double[][] Residual(double[] p, int[] inputs, int b, int sequence, int[]? starts)
    {
        int d = c.Dim, hd = c.HeadDim, group = c.Heads / c.KeyValueHeads;
        var x = new double[sequence][];
        for (int t = 0; t < sequence; t++) x[t] = Row(weights.TokenEmbedding, inputs[b * sequence + t]);
        for (int layer = 0; layer < c.Layers; layer++)
        {
            var w = weights.Layers[layer];
            var frequencies = w.RopeInverseFrequency ?? RotaryEmbedding.InverseFrequencies(hd, c.RopeTheta);
            var q = new double[sequence][]; var k = new double[sequence][]; var v = new double[sequence][];
            for (int t = 0; t < sequence; t++)
            {
                var n = Norm(c.Norm, x[t], w.AttentionNorm);
                q[t] = Project(w.Query, n, p, layer, LoraTarget.Query, w.QueryBias);
                k[t] = Project(w.Key, n, p, layer, LoraTarget.Key, w.KeyBias);
                v[t] = Project(w.Value, n, p, layer, LoraTarget.Value, w.ValueBias);
                if (c.QueryKeyNorm == QueryKeyNorm.FullWidth) { q[t] = Norm(c.Norm, q[t], w.QueryNorm!); k[t] = Norm(c.Norm, k[t], w.KeyNorm!); }
                if (c.QueryKeyNorm == QueryKeyNorm.PerHead) { q[t] = PerHead(q[t], w.QueryNorm!); k[t] = PerHead(k[t], w.KeyNorm!); }
                int position = t - (starts?[b * sequence + t] ?? 0);
                Rotate(q[t], position, frequencies); Rotate(k[t], position, frequencies);
            }
            for (int t = 0; t < sequence; t++)
            {
                int first = starts?[b * sequence + t] ?? 0;
                var attention = new double[c.QueryDim];
                for (int head = 0; head < c.Heads; head++)
                {
                    int g = head / group;
                    var s = new double[t + 1 - first];
                    for (int j = first; j <= t; j++)
                    {
                        for (int i = 0; i < hd; i++) s[j - first] += q[t][head * hd + i] * k[j][g * hd + i];
                        s[j - first] /= Math.Sqrt(hd);
                    }
                    double max = s.Max(), sum = s.Sum(z => Math.Exp(z - max));
                    for (int j = first; j <= t; j++)
                        for (int i = 0; i < hd; i++) attention[head * hd + i] += Math.Exp(s[j - first] - max) / sum * v[j][g * hd + i];
                }
                var o = Project(w.Output, attention, p, layer, LoraTarget.Output, null);
                for (int i = 0; i < d; i++) x[t][i] += o[i];
            }
            for (int t = 0; t < sequence; t++)
            {
                var n = Norm(c.Norm, x[t], w.FeedForwardNorm);
                var gate = Project(w.Gate, n, p, layer, LoraTarget.Gate, null);
                var up = Project(w.Up, n, p, layer, LoraTarget.Up, null);
                var hidden = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                var down = Project(w.Down, hidden, p, layer, LoraTarget.Down, null);
                for (int i = 0; i < d; i++) x[t][i] += down[i];
            }
        }
        return x;
    }

    private double[] Project(WeightMatrix m, double[] x, double[] p, int layer, LoraTarget target, float[]? bias)
    {
        var y = Linear(m, x);
        if (bias is not null) for (int i = 0; i < y.Length; i++) y[i] += bias[i];
        foreach (var adapter in adapters.For(layer, target))
        {
            int a = Offsets[adapter.A], b = Offsets[adapter.B], r = adapter.Rank;
            var u = new double[r];
            for (int j = 0; j < r; j++)
                for (int col = 0; col < x.Length; col++) u[j] += p[a + j * x.Length + col] * x[col];
            for (int i = 0; i < adapter.Rows; i++)
                for (int j = 0; j < r; j++) y[adapter.RowStart + i] += adapter.Scale * p[b + i * r + j] * u[j];
        }
        return y;
    }

    private double[] Linear(WeightMatrix m, double[] x)
    {
        var w = Dequantized(m);
        var y = new double[m.Rows];
        for (int r = 0; r < m.Rows; r++)
            for (int col = 0; col < m.Columns; col++) y[r] += w[r * m.Columns + col] * x[col];
        return y;
    }

    private unsafe double[] Dequantized(WeightMatrix m)
    {
        if (_dequantized.TryGetValue((nint)m.Data, out var cached)) return cached;
        var values = new double[m.Rows * m.Columns];
        var row = new float[m.Columns];
        for (int r = 0; r < m.Rows; r++)
        {
            Dequantize.Row(m, r, row);
            for (int col = 0; col < m.Columns; col++) values[r * m.Columns + col] = row[col];
        }
        return _dequantized[(nint)m.Data] = values;
    }

    private double[] Row(WeightMatrix m, int row) => Dequantized(m).AsSpan(row * m.Columns, m.Columns).ToArray();

    private double[] Norm(NormKind kind, double[] x, float[] gain)
    {
        if (kind == NormKind.RmsNorm)
        {
            double r = 1 / Math.Sqrt(x.Sum(v => v * v) / x.Length + c.NormEps);
            return x.Select((v, i) => v * r * gain[i]).ToArray();
        }
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + c.NormEps) * gain[i]).ToArray();
    }

    private double[] PerHead(double[] x, float[] gain)
    {
        int hd = c.HeadDim;
        var y = new double[x.Length];
        for (int offset = 0; offset < x.Length; offset += hd) Norm(NormKind.RmsNorm, x[offset..(offset + hd)], gain).CopyTo(y, offset);
        return y;
    }

    private void Rotate(double[] x, int position, float[] frequencies)
    {
        if (c.Positions != PositionEncoding.Rotary) return;
        int hd = c.HeadDim, half = hd / 2;
        for (int offset = 0; offset < x.Length; offset += hd)
            for (int i = 0; i < half; i++)
            {
                int ia = c.RopeStyle == RopeStyle.HalfSplit ? offset + i : offset + 2 * i;
                int ib = c.RopeStyle == RopeStyle.HalfSplit ? offset + i + half : offset + 2 * i + 1;
                double angle = (float)(position * frequencies[i]);
                double a = x[ia], b = x[ib];
                x[ia] = a * Math.Cos(angle) - b * Math.Sin(angle);
                x[ib] = a * Math.Sin(angle) + b * Math.Cos(angle);
            }
    }

    private static Dictionary<ParameterTensor, int> Flat(IReadOnlyList<ParameterTensor> tensors)
    {
        var offsets = new Dictionary<ParameterTensor, int>();
        int next = 0;
        foreach (var t in tensors) { offsets[t] = next; next += t.Length; }
        return offsets;
    }
}
