using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Ops;

namespace Dclm.Gpu.Conformance;

/// <summary>
/// Small random-weight Llama, Qwen2 and Qwen3 models (the graphs the fixtures do not cover), from a fixed seed:
/// embeddings U(−√3, √3), projections U(±√(3/fan_in)), gains 1 ± 0.17, biases ± 0.5, so activations stay O(1).
/// Qwen3's head width (32) differs from dim/heads (16), as in the real models.
/// </summary>
internal static class SyntheticDecoders
{
    public static readonly string[] Names = ["llama", "qwen2", "qwen3"];

    /// <summary>Llama with attention variants for the long-context checks: a sliding window of 10, and ALiBi in place of RoPE.</summary>
    public static readonly string[] AttentionVariants = ["llama-window", "llama-alibi"];

    public static ModelConfig Config(string name) => name switch
    {
        "llama" => new ModelConfig { Architecture = Architecture.Llama, Dim = 64, Layers = 2, Heads = 4, KeyValueHeads = 2, HiddenDim = 128,
            VocabularySize = 256, ContextLength = 128, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None, RopeStyle = RopeStyle.AdjacentPairs },
        "qwen2" => new ModelConfig { Architecture = Architecture.Qwen2, Dim = 64, Layers = 2, Heads = 4, KeyValueHeads = 2, HiddenDim = 160,
            VocabularySize = 256, ContextLength = 128, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None, RopeTheta = 1e6 },
        "qwen3" => new ModelConfig { Architecture = Architecture.Qwen3, Dim = 64, Layers = 2, Heads = 4, KeyValueHeads = 2, HiddenDim = 128,
            VocabularySize = 256, ContextLength = 128, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.PerHead, HeadDimension = 32, RopeTheta = 1e6 },
        "llama-window" => Config("llama") with { SlidingWindow = 10 },
        "llama-alibi" => Config("llama") with { Positions = PositionEncoding.Alibi },
        _ => throw new ArgumentException($"no synthetic model '{name}'"),
    };

    /// <summary>Random f32 weights for <paramref name="config"/>, in <paramref name="memory"/>.</summary>
    public static ModelWeights Weights(ModelConfig config, HostWeights memory, int seed)
    {
        var random = new Random(seed);
        float[] Uniform(int count, double center, double halfWidth) =>
            Enumerable.Range(0, count).Select(_ => (float)(center + halfWidth * (2 * random.NextDouble() - 1))).ToArray();
        WeightMatrix Matrix(int rows, int columns) => memory.Matrix(Uniform(rows * columns, 0, Math.Sqrt(3.0 / columns)), rows, columns, GgmlType.F32);
        int d = config.Dim, qd = config.QueryDim, kv = config.KeyValueDim, h = config.HiddenDim, v = config.VocabularySize;
        bool bias = config.AttentionBias, perHead = config.QueryKeyNorm == QueryKeyNorm.PerHead;
        var embedding = memory.Matrix(Uniform(v * d, 0, Math.Sqrt(3)), v, d, GgmlType.F32);
        var layers = new LayerWeights[config.Layers];
        for (int i = 0; i < layers.Length; i++)
            layers[i] = new LayerWeights
            {
                AttentionNorm = Uniform(d, 1, 0.17), Query = Matrix(qd, d), Key = Matrix(kv, d), Value = Matrix(kv, d),
                QueryBias = bias ? Uniform(qd, 0, 0.5) : null, KeyBias = bias ? Uniform(kv, 0, 0.5) : null, ValueBias = bias ? Uniform(kv, 0, 0.5) : null,
                QueryNorm = perHead ? Uniform(config.HeadDim, 1, 0.17) : null, KeyNorm = perHead ? Uniform(config.HeadDim, 1, 0.17) : null,
                Output = Matrix(d, qd), FeedForwardNorm = Uniform(d, 1, 0.17), Gate = Matrix(h, d), Up = Matrix(h, d), Down = Matrix(d, h),
            };
        return new ModelWeights(embedding, layers, Uniform(d, 1, 0.17), Matrix(v, d));
    }
}
