using System.Numerics.Tensors;
using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Embeddings;

/// <summary>
/// The forward pass of a BERT-family encoder over a batch of token sequences. The sequences are packed
/// back to back, (tokens, width), so every matrix product runs once over the whole batch with no padding;
/// attention is bidirectional inside each sequence and never crosses into another.
/// Calls are serialised: one batch at a time per encoder.
/// </summary>
public sealed class BertEncoder : IDisposable
{
    private readonly object gate = new();
    private readonly BertRunState state = new();
    private readonly AttentionJob attention;

    /// <summary>Runs <paramref name="weights"/> (owned from now on) on <paramref name="pool"/> (the shared pool when null).</summary>
    public BertEncoder(BertWeights weights, ComputePool? pool = null)
    {
        Weights = weights;
        Pool = pool ?? ComputePool.Shared;
        attention = new AttentionJob(weights.Config);
    }

    /// <summary>The parameters.</summary>
    public BertWeights Weights { get; }
    /// <summary>The threads the products are split over.</summary>
    public ComputePool Pool { get; }
    /// <summary>The encoder's shape.</summary>
    public BertConfig Config => Weights.Config;

    /// <summary>
    /// Encodes every sequence and returns the last layer's hidden states, (total tokens, width), the
    /// sequences in order. Each sequence must hold 1..<see cref="BertConfig.MaxPositions"/> ids in the vocabulary.
    /// </summary>
    public float[] Forward(IReadOnlyList<int[]> sequences)
    {
        var c = Config;
        int total = 0;
        foreach (var sequence in sequences)
        {
            if (sequence.Length == 0 || sequence.Length > c.MaxPositions)
                throw new ArgumentException($"a sequence of {sequence.Length} tokens is outside 1..{c.MaxPositions}", nameof(sequences));
            foreach (int id in sequence)
                if ((uint)id >= (uint)c.VocabularySize) throw new ArgumentOutOfRangeException(nameof(sequences), $"token id {id} is outside the vocabulary of {c.VocabularySize}");
            total += sequence.Length;
        }
        lock (gate)
        {
            state.Ensure(c, total);
            Embed(sequences, state.Hidden);
            foreach (var layer in Weights.Layers) RunLayer(layer, sequences, total);
            return state.Hidden.AsSpan(0, total * c.Width).ToArray();
        }
    }

    // h = LayerNorm(word[id] + position[p] + type[0])
    private void Embed(IReadOnlyList<int[]> sequences, float[] hidden)
    {
        int w = Config.Width, row = 0;
        var typeZero = Weights.TokenTypeEmbeddings.AsSpan(0, w);
        var sum = new float[w];
        foreach (var sequence in sequences)
            for (int p = 0; p < sequence.Length; p++, row++)
            {
                TensorPrimitives.Add(Weights.WordEmbeddings.AsSpan(sequence[p] * w, w), Weights.PositionEmbeddings.AsSpan(p * w, w), sum);
                TensorPrimitives.Add(sum, typeZero, sum);
                Norm(sum, Weights.EmbeddingNormGain, Weights.EmbeddingNormBias, hidden.AsSpan(row * w, w));
            }
    }

    // Post-norm: a = LN(h + Wo·attention(Wqkv·h)), h' = LN(a + Wout·gelu(Wi·a)).
    private void RunLayer(BertLayerWeights layer, IReadOnlyList<int[]> sequences, int n)
    {
        var c = Config;
        var s = state;
        int w = c.Width, f = c.FeedForwardWidth;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        MatMul.Multiply(s.Hidden, n, layer.QueryKeyValue, s.QueryKeyValue, Pool);
        AddBias(s.QueryKeyValue, n, layer.QueryKeyValueBias);
        long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        attention.Run(Pool, sequences, s.QueryKeyValue, s.Context);
        long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        Profile[0] += t1 - t0; Profile[1] += t2 - t1;
        MatMul.Multiply(s.Context, n, layer.AttentionOutput, s.Projected, Pool);
        for (int t = 0; t < n; t++)
        {
            var residual = s.Hidden.AsSpan(t * w, w);
            var projected = s.Projected.AsSpan(t * w, w);
            TensorPrimitives.Add(projected, layer.AttentionOutputBias, projected);
            TensorPrimitives.Add(projected, residual, projected);
            Norm(projected, layer.AttentionNormGain, layer.AttentionNormBias, residual);
        }
        long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
        Profile[2] += t3 - t2;
        MatMul.Multiply(s.Hidden, n, layer.Intermediate, s.Intermediate, Pool);
        AddBias(s.Intermediate, n, layer.IntermediateBias);
        long t4 = System.Diagnostics.Stopwatch.GetTimestamp();
        Gelu.Apply(s.Intermediate.AsSpan(0, n * f), s.Intermediate);
        long t5 = System.Diagnostics.Stopwatch.GetTimestamp();
        MatMul.Multiply(s.Intermediate, n, layer.Output, s.Projected, Pool);
        long t6 = System.Diagnostics.Stopwatch.GetTimestamp();
        Profile[3] += t4 - t3; Profile[4] += t5 - t4; Profile[5] += t6 - t5;
        for (int t = 0; t < n; t++)
        {
            var residual = s.Hidden.AsSpan(t * w, w);
            var projected = s.Projected.AsSpan(t * w, w);
            TensorPrimitives.Add(projected, layer.OutputBias, projected);
            TensorPrimitives.Add(projected, residual, projected);
            Norm(projected, layer.OutputNormGain, layer.OutputNormBias, residual);
        }
    }

    public static long[] Profile = new long[8];
    private static void AddBias(float[] rows, int count, float[] bias)
    {
        int width = bias.Length;
        for (int t = 0; t < count; t++) TensorPrimitives.Add(rows.AsSpan(t * width, width), bias, rows.AsSpan(t * width, width));
    }

    private void Norm(ReadOnlySpan<float> x, float[] gain, float[] bias, Span<float> destination)
    {
        LayerNorm.Apply(x, gain, Config.NormEpsilon, destination);
        TensorPrimitives.Add(destination[..bias.Length], bias, destination);
    }

    /// <summary>Frees the weights.</summary>
    public void Dispose() => Weights.Dispose();
}

/// <summary>The activations of one batch, grown to the largest batch seen and reused.</summary>
internal sealed class BertRunState
{
    /// <summary>(tokens, width): the residual stream.</summary>
    public float[] Hidden = [];
    /// <summary>(tokens, 3·width): Q | K | V of each token.</summary>
    public float[] QueryKeyValue = [];
    /// <summary>(tokens, width): attention output before the projection.</summary>
    public float[] Context = [];
    /// <summary>(tokens, width): a product before its residual add.</summary>
    public float[] Projected = [];
    /// <summary>(tokens, feed-forward width)</summary>
    public float[] Intermediate = [];

    public void Ensure(BertConfig c, int tokens)
    {
        if (Hidden.Length >= tokens * c.Width) return;
        Hidden = new float[tokens * c.Width];
        QueryKeyValue = new float[tokens * 3 * c.Width];
        Context = new float[tokens * c.Width];
        Projected = new float[tokens * c.Width];
        Intermediate = new float[tokens * c.FeedForwardWidth];
    }
}
