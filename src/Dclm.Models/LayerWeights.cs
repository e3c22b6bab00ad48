using Dclm.Tensors;

namespace Dclm.Models;

/// <summary>
/// Weights of one transformer block. Matrices are views (outputs, inputs); they may point into a memory-mapped file.
/// Widths: dim = residual, qd = heads·headDim, kvd = kvHeads·headDim, hidden = feed-forward.
/// </summary>
public sealed class LayerWeights
{
    /// <summary>Gain of the pre-attention norm. (dim)</summary>
    public required float[] AttentionNorm { get; init; }
    /// <summary>Query projection. (qd, dim)</summary>
    public required WeightMatrix Query { get; init; }
    /// <summary>Key projection. (kvd, dim)</summary>
    public required WeightMatrix Key { get; init; }
    /// <summary>Value projection. (kvd, dim)</summary>
    public required WeightMatrix Value { get; init; }
    /// <summary>Bias added to Q after its projection, when the architecture has attention biases (Qwen2). (qd)</summary>
    public float[]? QueryBias { get; init; }
    /// <summary>Bias added to K, as <see cref="QueryBias"/>. (kvd)</summary>
    public float[]? KeyBias { get; init; }
    /// <summary>Bias added to V, as <see cref="QueryBias"/>. (kvd)</summary>
    public float[]? ValueBias { get; init; }
    /// <summary>
    /// Gain of the norm of Q, as the config's <see cref="Models.QueryKeyNorm"/> says: (qd) over the full width, (headDim)
    /// per head; null without.
    /// </summary>
    public float[]? QueryNorm { get; init; }
    /// <summary>Gain of the norm of K: (kvd) over the full width, (headDim) per head; null without.</summary>
    public float[]? KeyNorm { get; init; }
    /// <summary>Attention output projection. (dim, qd)</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>Gain of the pre-feed-forward norm. (dim)</summary>
    public required float[] FeedForwardNorm { get; init; }
    /// <summary>SwiGLU gate projection. (hidden, dim)</summary>
    public required WeightMatrix Gate { get; init; }
    /// <summary>SwiGLU up projection. (hidden, dim)</summary>
    public required WeightMatrix Up { get; init; }
    /// <summary>Feed-forward down projection. (dim, hidden)</summary>
    public required WeightMatrix Down { get; init; }
    /// <summary>RoPE frequencies stored with the checkpoint (open_lm keeps inv_freq per layer; Llama 3.1 GGUF files scale them), or null to derive them. (headDim/2)</summary>
    public float[]? RopeInverseFrequency { get; init; }
}

/// <summary>All weights of a decoder, and whatever keeps their memory alive.</summary>
public sealed class ModelWeights : IDisposable
{
    private readonly IDisposable[] _owners;

    public ModelWeights(WeightMatrix tokenEmbedding, LayerWeights[] layers, float[] finalNorm, WeightMatrix output, params IDisposable[] owners)
    {
        TokenEmbedding = tokenEmbedding;
        Layers = layers;
        FinalNorm = finalNorm;
        Output = output;
        _owners = owners;
    }

    /// <summary>Token embedding table. (vocab, dim)</summary>
    public WeightMatrix TokenEmbedding { get; }
    /// <summary>Transformer blocks, first to last.</summary>
    public LayerWeights[] Layers { get; }
    /// <summary>Gain of the final norm. (dim)</summary>
    public float[] FinalNorm { get; }
    /// <summary>Output head (the embedding itself when tied). (vocab, dim)</summary>
    public WeightMatrix Output { get; }

    /// <summary>Checks every shape against <paramref name="config"/>, naming the first tensor that disagrees.</summary>
    public void Validate(ModelConfig config)
    {
        static void Matrix(string name, WeightMatrix m, int rows, int cols)
        {
            if (m.Rows != rows || m.Columns != cols)
                throw new InvalidDataException($"tensor {name} is [{m.Rows}, {m.Columns}], the config needs [{rows}, {cols}]");
        }
        static void Vector(string name, float[]? v, int length)
        {
            if (v is null || v.Length != length) throw new InvalidDataException($"tensor {name} has {v?.Length ?? 0} values, the config needs {length}");
        }
        int d = config.Dim, qd = config.QueryDim, kv = config.KeyValueDim, h = config.HiddenDim;
        Matrix("token embedding", TokenEmbedding, config.VocabularySize, d);
        Matrix("output", Output, config.VocabularySize, d);
        Vector("final norm", FinalNorm, d);
        if (Layers.Length != config.Layers) throw new InvalidDataException($"the weights have {Layers.Length} layers, the config needs {config.Layers}");
        for (int i = 0; i < Layers.Length; i++)
        {
            var l = Layers[i];
            Vector($"layer {i} attention norm", l.AttentionNorm, d);
            Vector($"layer {i} feed-forward norm", l.FeedForwardNorm, d);
            Matrix($"layer {i} query", l.Query, qd, d);
            Matrix($"layer {i} key", l.Key, kv, d);
            Matrix($"layer {i} value", l.Value, kv, d);
            Matrix($"layer {i} attention output", l.Output, d, qd);
            Matrix($"layer {i} gate", l.Gate, h, d);
            Matrix($"layer {i} up", l.Up, h, d);
            Matrix($"layer {i} down", l.Down, d, h);
            if (config.QueryKeyNorm != QueryKeyNorm.None)
            {
                bool perHead = config.QueryKeyNorm == QueryKeyNorm.PerHead;
                Vector($"layer {i} q norm", l.QueryNorm, perHead ? config.HeadDim : qd);
                Vector($"layer {i} k norm", l.KeyNorm, perHead ? config.HeadDim : kv);
            }
            if (config.AttentionBias)
            {
                Vector($"layer {i} query bias", l.QueryBias, qd);
                Vector($"layer {i} key bias", l.KeyBias, kv);
                Vector($"layer {i} value bias", l.ValueBias, kv);
            }
            if (l.RopeInverseFrequency is { } f && f.Length != config.HeadDim / 2)
                throw new InvalidDataException($"layer {i} rope inv_freq has {f.Length} values, the config needs {config.HeadDim / 2}");
        }
    }

    public void Dispose()
    {
        foreach (var owner in _owners) owner.Dispose();
    }
}
