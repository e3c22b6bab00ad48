using Dclm.Tensors.Compute;
using Dclm.Training.Kernels;
using static Dclm.Training.Tests.GradientCheck;

namespace Dclm.Training.Tests;

/// <summary>Every op's backward against central finite differences of a float64 reference forward.</summary>
public class OpGradientTests
{
    private static readonly ComputePool Pool = new(2);

    [Theory]
    [InlineData(1, 8)]
    [InlineData(3, 33)]
    public void LayerNormBackwardMatchesFiniteDifferences(int rows, int width)
    {
        var x = Random(rows * width, 1, 2.0);
        var gain = Random(width, 2).Select(g => (double)(float)(1 + g / 2)).ToArray();
        var w = Random(rows * width, 3);
        const double eps = 1e-5;
        double Loss(double[] xs, double[] gs)
        {
            double total = 0;
            for (int t = 0; t < rows; t++)
            {
                var row = xs.AsSpan(t * width, width);
                double mean = 0; foreach (var v in row) mean += v; mean /= width;
                double variance = 0; foreach (var v in row) variance += (v - mean) * (v - mean); variance /= width;
                double r = 1 / Math.Sqrt(variance + eps);
                for (int i = 0; i < width; i++) total += w[t * width + i] * (row[i] - mean) * r * gs[i];
            }
            return total;
        }
        var y = new float[rows * width]; var mu = new float[rows]; var rs = new float[rows];
        LayerNormKernel.Forward(ToFloat(x), ToFloat(gain), (float)eps, rows, width, y, mu, rs, Pool);
        var dx = new float[rows * width]; var dg = new float[width];
        LayerNormKernel.Backward(ToFloat(w), width, ToFloat(x), width, ToFloat(gain), mu, rs, rows, width, dx, width, false, dg, Pool);
        Assert(x, xs => Loss(xs, gain), dx, "layer norm dx");
        Assert(gain, gs => Loss(x, gs), dg, "layer norm dgain");
    }

    [Fact]
    public void RopeBackwardMatchesFiniteDifferences()
    {
        const int rows = 5, headDim = 8, width = 16;
        var rope = new RopeKernel(headDim, 10000, 8);
        var x = Random(rows * width, 4);
        var w = Random(rows * width, 5);
        var frequencies = Dclm.Tensors.Ops.RotaryEmbedding.InverseFrequencies(headDim, 10000);
        double Loss(double[] xs)
        {
            double total = 0;
            for (int t = 0; t < rows; t++)
                for (int head = 0; head < width / headDim; head++)
                    for (int i = 0; i < headDim / 2; i++)
                    {
                        int ia = t * width + head * headDim + i, ib = ia + headDim / 2;
                        double angle = (float)(t * frequencies[i]);
                        double a = xs[ia] * Math.Cos(angle) - xs[ib] * Math.Sin(angle);
                        double b = xs[ia] * Math.Sin(angle) + xs[ib] * Math.Cos(angle);
                        total += w[ia] * a + w[ib] * b;
                    }
            return total;
        }
        var gradient = ToFloat(w);
        rope.Backward(gradient, rows, width, rows);
        Assert(x, Loss, gradient, "rope");
    }

    [Theory]
    [InlineData(1, 4, 1, 1, 4, false, 0, false)]
    [InlineData(2, 5, 2, 2, 6, false, 0, false)]
    [InlineData(2, 6, 4, 2, 4, false, 0, false)]
    [InlineData(2, 7, 2, 1, 4, true, 0, false)]
    [InlineData(2, 7, 2, 2, 4, false, 3, false)]
    [InlineData(2, 8, 4, 2, 4, true, 2, true)]
    [InlineData(1, 6, 2, 1, 6, false, 0, true)]
    public void AttentionBackwardMatchesFiniteDifferences(int batch, int sequence, int heads, int kvHeads, int headDim, bool packed, int window, bool alibi)
    {
        int qd = heads * headDim, kvd = kvHeads * headDim, n = batch * sequence, group = heads / kvHeads;
        var q = Random(n * qd, 6); var k = Random(n * kvd, 7); var v = Random(n * kvd, 8); var w = Random(n * qd, 9);
        // Packed: each sequence holds documents of 3 tokens then the rest; a row sees only its own document.
        var starts = new int[n];
        for (int t = 0; t < n; t++) starts[t] = packed && t % sequence >= 3 ? 3 : 0;
        // Slopes as ALiBi's definition gives them for power-of-two heads: m_h = 2^(−8(h+1)/H).
        var slopes = alibi ? Enumerable.Range(0, heads).Select(h => (float)Math.Pow(2, -8.0 * (h + 1) / heads)).ToArray() : null;
        var layout = new AttentionKernel.Layout(batch, sequence, heads, kvHeads, headDim, qd, kvd, kvd, qd) { Window = window, Slopes = slopes };
        double Loss(double[] qs, double[] ks, double[] vs)
        {
            double total = 0, scale = 1 / Math.Sqrt(headDim);
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < heads; h++)
                    for (int i = 0; i < sequence; i++)
                    {
                        // Visible: j in [s_i, i] and, with a window W, j ≥ i − W + 1; ALiBi adds −m_h·(i − j).
                        int first = window > 0 ? Math.Max(starts[b * sequence + i], i - window + 1) : starts[b * sequence + i], g = h / group;
                        var s = new double[i + 1 - first];
                        for (int j = first; j <= i; j++)
                        {
                            for (int c = 0; c < headDim; c++) s[j - first] += qs[(b * sequence + i) * qd + h * headDim + c] * ks[(b * sequence + j) * kvd + g * headDim + c] * scale;
                            s[j - first] -= (slopes?[h] ?? 0) * (i - j);
                        }
                        double max = s.Max(), sum = s.Sum(z => Math.Exp(z - max));
                        for (int c = 0; c < headDim; c++)
                        {
                            double o = 0;
                            for (int j = first; j <= i; j++) o += Math.Exp(s[j - first] - max) / sum * vs[(b * sequence + j) * kvd + g * headDim + c];
                            total += w[(b * sequence + i) * qd + h * headDim + c] * o;
                        }
                    }
            return total;
        }
        var output = new float[n * qd]; var probabilities = new float[batch * heads * sequence * sequence];
        var (fq, fk, fv) = (ToFloat(q), ToFloat(k), ToFloat(v));
        AttentionKernel.Forward(layout, fq, fk, fv, output, probabilities, Pool, starts);
        var (dq, dk, dv) = (new float[n * qd], new float[n * kvd], new float[n * kvd]);
        AttentionKernel.Backward(layout, ToFloat(w), fq, fk, fv, probabilities, dq, dk, dv, Pool, starts);
        Assert(q, qs => Loss(qs, k, v), dq, "attention dq");
        Assert(k, ks => Loss(q, ks, v), dk, "attention dk");
        Assert(v, vs => Loss(q, k, vs), dv, "attention dv");
        // The forward itself: o against the float64 reference through a unit projection.
        Xunit.Assert.Equal(Loss(q, k, v), Dot(output.Select(o => (double)o).ToArray(), w), 4);
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(3, 33)]
    public void RmsNormBackwardMatchesFiniteDifferences(int rows, int width)
    {
        var x = Random(rows * width, 21, 2.0);
        var gain = Random(width, 22).Select(g => (double)(float)(1 + g / 2)).ToArray();
        var w = Random(rows * width, 23);
        const double eps = 1e-6;
        double Loss(double[] xs, double[] gs)
        {
            double total = 0;
            for (int t = 0; t < rows; t++)
            {
                var row = xs.AsSpan(t * width, width);
                double squares = 0; foreach (var v in row) squares += v * v;
                double r = 1 / Math.Sqrt(squares / width + eps);
                for (int i = 0; i < width; i++) total += w[t * width + i] * row[i] * r * gs[i];
            }
            return total;
        }
        var y = new float[rows * width]; var rs = new float[rows];
        RmsNormKernel.Forward(ToFloat(x), width, ToFloat(gain), (float)eps, rows, width, y, width, rs, Pool);
        Xunit.Assert.Equal(Loss(x, gain), Dot(y.Select(v => (double)v).ToArray(), w), 4);
        var dx = new float[rows * width]; var dg = new float[width];
        RmsNormKernel.Backward(ToFloat(w), width, ToFloat(x), width, ToFloat(gain), rs, rows, width, dx, width, false, dg, Pool);
        Assert(x, xs => Loss(xs, gain), dx, "rms norm dx");
        Assert(gain, gs => Loss(x, gs), dg, "rms norm dgain");
    }

    [Fact]
    public void AdjacentPairRopeBackwardMatchesFiniteDifferences()
    {
        const int rows = 4, headDim = 8, width = 16;
        var frequencies = Dclm.Tensors.Ops.RotaryEmbedding.InverseFrequencies(headDim, 500);
        var rope = new RopeKernel(headDim, frequencies, 8, Dclm.Tensors.Ops.RopeStyle.AdjacentPairs);
        int[] positions = [0, 3, 1, 7];
        var x = Random(rows * width, 24);
        var w = Random(rows * width, 25);
        double Loss(double[] xs)
        {
            double total = 0;
            for (int t = 0; t < rows; t++)
                for (int head = 0; head < width / headDim; head++)
                    for (int i = 0; i < headDim / 2; i++)
                    {
                        int ia = t * width + head * headDim + 2 * i, ib = ia + 1;
                        double angle = (float)(positions[t] * frequencies[i]);
                        double a = xs[ia] * Math.Cos(angle) - xs[ib] * Math.Sin(angle);
                        double b = xs[ia] * Math.Sin(angle) + xs[ib] * Math.Cos(angle);
                        total += w[ia] * a + w[ib] * b;
                    }
            return total;
        }
        var rotated = ToFloat(x);
        rope.Forward(rotated, rows, width, positions);
        Xunit.Assert.Equal(Loss(x), Dot(rotated.Select(v => (double)v).ToArray(), w), 5);
        var gradient = ToFloat(w);
        rope.Backward(gradient, rows, width, positions);
        Assert(x, Loss, gradient, "adjacent-pair rope");
    }

    [Fact]
    public void SwiGluBackwardMatchesFiniteDifferences()
    {
        const int rows = 3, hidden = 17;
        var gate = Random(rows * hidden, 10, 3.0);
        var up = Random(rows * hidden, 26, 3.0);
        var w = Random(rows * hidden, 11);
        double Loss(double[] gs, double[] us)
        {
            double total = 0;
            for (int i = 0; i < rows * hidden; i++) total += w[i] * gs[i] / (1 + Math.Exp(-gs[i])) * us[i];
            return total;
        }
        var h = new float[rows * hidden];
        SwiGluKernel.Forward(ToFloat(gate), ToFloat(up), rows, hidden, h, Pool);
        Xunit.Assert.Equal(Loss(gate, up), Dot(h.Select(v => (double)v).ToArray(), w), 5);
        var (dGate, dUp) = (new float[rows * hidden], new float[rows * hidden]);
        SwiGluKernel.Backward(ToFloat(w), ToFloat(gate), ToFloat(up), rows, hidden, dGate, dUp, Pool);
        Assert(gate, gs => Loss(gs, up), dGate, "swiglu gate");
        Assert(up, us => Loss(gate, us), dUp, "swiglu up");
    }

    [Fact]
    public void EmbeddingBackwardMatchesFiniteDifferences()
    {
        const int vocabulary = 6, dim = 4;
        int[] tokens = [2, 5, 2, 0];
        var table = Random(vocabulary * dim, 12);
        var w = Random(tokens.Length * dim, 13);
        double Loss(double[] e)
        {
            double total = 0;
            for (int t = 0; t < tokens.Length; t++)
                for (int i = 0; i < dim; i++) total += w[t * dim + i] * e[tokens[t] * dim + i];
            return total;
        }
        var gradient = new float[vocabulary * dim];
        EmbeddingKernel.Backward(tokens, ToFloat(w), dim, gradient);
        Assert(table, Loss, gradient, "embedding", indices: Enumerable.Range(0, vocabulary * dim).Where(i => tokens.Contains(i / dim)));
        Xunit.Assert.All(Enumerable.Range(dim, dim), i => Xunit.Assert.Equal(0f, gradient[i]));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-4)]
    [InlineData(0.05)]
    public void CrossEntropyWithZLossMatchesFiniteDifferences(double zLoss)
    {
        const int rows = 4, vocabulary = 37;
        int[] targets = [3, 0, -1, 36];
        var logits = Random(rows * vocabulary, 14, 4.0);
        double Loss(double[] ls)
        {
            double total = 0;
            for (int t = 0; t < rows; t++)
            {
                if (targets[t] < 0) continue;
                var row = ls.AsSpan(t * vocabulary, vocabulary);
                double max = double.MinValue; foreach (var v in row) max = Math.Max(max, v);
                double sum = 0; foreach (var v in row) sum += Math.Exp(v - max);
                double z = max + Math.Log(sum);
                total += z - row[targets[t]] + zLoss * z * z;
            }
            return total / 3;
        }
        var gradient = ToFloat(logits);
        var ce = new float[rows]; var z2 = new float[rows];
        CrossEntropyKernel.ForwardBackward(gradient, targets, rows, vocabulary, (float)zLoss, 1f / 3, ce, z2, Pool);
        Assert(logits, Loss, gradient, "cross-entropy");
        Xunit.Assert.Equal(Loss(logits), (ce.Sum(v => (double)v) + zLoss * z2.Sum(v => (double)v)) / 3, 5);
    }
}
