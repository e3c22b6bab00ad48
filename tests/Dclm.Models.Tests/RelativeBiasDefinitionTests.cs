using Dclm.Tensors;
using Dclm.Tensors.Compute;

namespace Dclm.Models.Tests;

/// <summary>
/// rotary_alibi (RoPE plus ALiBi's bias, our extension) against its definition: a float64 one-layer open_lm forward,
/// written here from the math, computes every score as s_hij = rope(q_i)·rope(k_j)/√d − m_h·(i − j) with
/// m_h = 2^(−8(h+1)/H), and its logits must equal the model's at every position.
/// </summary>
public class RelativeBiasDefinitionTests
{
    private static readonly int[] Tokens = Enumerable.Range(0, 12).Select(i => (i * 37 + 11) % 97).ToArray();

    [Theory]
    [InlineData(PositionEncoding.RotaryAlibi, 0)]
    [InlineData(PositionEncoding.RotaryAlibi, 5)]
    [InlineData(PositionEncoding.Rotary, 0)]
    [InlineData(PositionEncoding.Alibi, 0)]
    public void LogitsFollowTheScoreDefinition(PositionEncoding positions, int window)
    {
        var config = ModelConfig.OpenLm(dim: 32, layers: 1, heads: 4, vocabularySize: 97, contextLength: 64) with { Positions = positions, SlidingWindow = window };
        using var model = SyntheticModel.Create(config);
        var actual = new float[Tokens.Length * config.VocabularySize];
        model.Forward(ForwardBatch.Sequence(Tokens, 0, allLogits: true), model.CreateCache(), actual);
        var expected = Reference(config, model.Weights, Tokens);
        double scale = expected.Max(Math.Abs), error = 0;
        for (int i = 0; i < actual.Length; i++) error = Math.Max(error, Math.Abs(actual[i] - expected[i]));
        Assert.True(error <= 1e-4 * scale, $"largest logit error {error:E2} of {scale:F2}");
    }

    [Fact]
    public void TheBiasChangesTheScoresOfRotaryAttention()
    {
        var config = ModelConfig.OpenLm(dim: 32, layers: 1, heads: 4, vocabularySize: 97, contextLength: 64);
        using var rotary = SyntheticModel.Create(config);
        using var biased = SyntheticModel.Create(config with { Positions = PositionEncoding.RotaryAlibi });
        var a = new float[config.VocabularySize];
        var b = new float[config.VocabularySize];
        rotary.Forward(ForwardBatch.Sequence(Tokens, 0), rotary.CreateCache(), a);
        biased.Forward(ForwardBatch.Sequence(Tokens, 0), biased.CreateCache(), b);
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }

    private static double[] Reference(ModelConfig c, ModelWeights w, int[] tokens)
    {
        int d = c.Dim, hd = c.HeadDim, heads = c.Heads, n = tokens.Length;
        var layer = w.Layers[0];
        var x = tokens.Select(t => Row(w.TokenEmbedding, t)).ToArray();
        var q = new double[n][]; var k = new double[n][]; var v = new double[n][];
        for (int t = 0; t < n; t++)
        {
            var normed = LayerNorm(x[t], layer.AttentionNorm, c.NormEps);
            q[t] = LayerNorm(MatVec(layer.Query, normed), layer.QueryNorm!, c.NormEps);
            k[t] = LayerNorm(MatVec(layer.Key, normed), layer.KeyNorm!, c.NormEps);
            v[t] = MatVec(layer.Value, normed);
            if (c.UsesRotary) { Rotate(q[t], t, hd, heads, c.RopeTheta); Rotate(k[t], t, hd, heads, c.RopeTheta); }
        }
        var logits = new double[n * c.VocabularySize];
        for (int i = 0; i < n; i++)
        {
            var attention = new double[d];
            for (int h = 0; h < heads; h++)
            {
                double slope = c.UsesAlibi ? Math.Pow(2, -8.0 * (h + 1) / heads) : 0;
                int first = c.SlidingWindow > 0 ? Math.Max(0, i - c.SlidingWindow + 1) : 0;
                var s = new double[i + 1 - first];
                for (int j = first; j <= i; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < hd; e++) dot += q[i][h * hd + e] * k[j][h * hd + e];
                    s[j - first] = dot / Math.Sqrt(hd) - slope * (i - j);
                }
                double max = s.Max(), sum = s.Sum(z => Math.Exp(z - max));
                for (int j = first; j <= i; j++)
                    for (int e = 0; e < hd; e++) attention[h * hd + e] += Math.Exp(s[j - first] - max) / sum * v[j][h * hd + e];
            }
            var middle = Add(x[i], MatVec(layer.Output, attention));
            var normed = LayerNorm(middle, layer.FeedForwardNorm, c.NormEps);
            var gate = MatVec(layer.Gate, normed);
            var up = MatVec(layer.Up, normed);
            var hidden = gate.Select((g, e) => g / (1 + Math.Exp(-g)) * up[e]).ToArray();
            var output = LayerNorm(Add(middle, MatVec(layer.Down, hidden)), w.FinalNorm, c.NormEps);
            MatVec(w.Output, output).CopyTo(logits, i * c.VocabularySize);
        }
        return logits;
    }

    /// <summary>NeoX half-split RoPE: dimension e pairs with e + hd/2 in each head, angle position·θ^(−2e/hd).</summary>
    private static void Rotate(double[] x, int position, int hd, int heads, double theta)
    {
        int half = hd / 2;
        for (int h = 0; h < heads; h++)
            for (int e = 0; e < half; e++)
            {
                double angle = position * Math.Pow(theta, -2.0 * e / hd);
                int a = h * hd + e, b = a + half;
                (x[a], x[b]) = (x[a] * Math.Cos(angle) - x[b] * Math.Sin(angle), x[a] * Math.Sin(angle) + x[b] * Math.Cos(angle));
            }
    }

    private static double[] Row(in WeightMatrix m, int row)
    {
        var values = new float[m.Columns];
        Dequantize.Row(m, row, values);
        return values.Select(f => (double)f).ToArray();
    }

    private static double[] MatVec(WeightMatrix m, double[] x) =>
        Enumerable.Range(0, m.Rows).Select(r => Row(m, r).Select((value, e) => value * x[e]).Sum()).ToArray();

    private static double[] LayerNorm(double[] x, float[] gain, double eps)
    {
        double mean = x.Average(), variance = x.Select(z => (z - mean) * (z - mean)).Average();
        return x.Select((z, e) => (z - mean) / Math.Sqrt(variance + eps) * gain[e]).ToArray();
    }

    private static double[] Add(double[] a, double[] b) => a.Select((z, e) => z + b[e]).ToArray();
}
