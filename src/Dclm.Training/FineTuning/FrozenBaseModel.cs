using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;
using Dclm.Training.Graph;
using Dclm.Training.Kernels;
using Dclm.Models.Adapters;

namespace Dclm.Training.FineTuning;

/// <summary>
/// Builds the training graph over a frozen base (the <see cref="ModelWeights"/> the inference loader bound, in
/// their stored types, never copied) with LoRA adapters: only the adapters train. Works for every architecture
/// the inference model runs except ALiBi positions.
/// </summary>
public static class FrozenBaseModel
{
    /// <summary>The model; <paramref name="adapters"/> must have been made for <paramref name="config"/>.</summary>
    public static TrainingModel Build(ModelConfig config, ModelWeights weights, LoraAdapters adapters, ComputePool pool)
    {
        weights.Validate(config);
        var version = new ParameterVersion();
        var ropes = new List<(float[] Frequencies, RopeKernel Kernel)>();
        var derived = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        var layers = new TrainingLayer[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            var l = weights.Layers[i];
            string p = $"layers.{i}.";
            Projection Frozen(Tensors.WeightMatrix matrix, LoraTarget target) => new FrozenProjection(matrix, adapters.For(i, target));
            var kind = config.QueryKeyNorm;
            // open_lm's full-width q/k norm is the model's own norm; Qwen3's per-head one is an RMS norm.
            var normKind = kind == QueryKeyNorm.FullWidth ? config.Norm : NormKind.RmsNorm;
            layers[i] = new TrainingLayer
            {
                AttentionNorm = Norm(config.Norm, p + "attention_norm", l.AttentionNorm, config.NormEps),
                Query = Frozen(l.Query, LoraTarget.Query),
                Key = Frozen(l.Key, LoraTarget.Key),
                Value = Frozen(l.Value, LoraTarget.Value),
                QueryBias = config.AttentionBias ? l.QueryBias : null,
                KeyBias = config.AttentionBias ? l.KeyBias : null,
                ValueBias = config.AttentionBias ? l.ValueBias : null,
                QueryKeyNormKind = kind,
                QueryNorm = kind == QueryKeyNorm.None ? null : Norm(normKind, p + "q_norm", l.QueryNorm!, config.NormEps),
                KeyNorm = kind == QueryKeyNorm.None ? null : Norm(normKind, p + "k_norm", l.KeyNorm!, config.NormEps),
                Rope = config.UsesRotary ? Rope(ropes, l.RopeInverseFrequency ?? derived, config) : null,
                Output = Frozen(l.Output, LoraTarget.Output),
                FeedForwardNorm = Norm(config.Norm, p + "ffn_norm", l.FeedForwardNorm, config.NormEps),
                Gate = Frozen(l.Gate, LoraTarget.Gate),
                Up = Frozen(l.Up, LoraTarget.Up),
                Down = Frozen(l.Down, LoraTarget.Down),
            };
        }
        return new TrainingModel(config, new TokenEmbedding(weights.TokenEmbedding), layers, Norm(config.Norm, "norm", weights.FinalNorm, config.NormEps),
            new FrozenProjection(weights.Output), adapters.Parameters, version, pool);
    }

    private static NormLayer Norm(NormKind kind, string name, float[] gain, float eps) =>
        new(kind, new ParameterTensor(name, [gain.Length], true, gain, trainable: false), eps);

    /// <summary>One RoPE table per distinct set of frequencies (usually one for the whole model).</summary>
    private static RopeKernel Rope(List<(float[] Frequencies, RopeKernel Kernel)> ropes, float[] frequencies, ModelConfig config)
    {
        foreach (var (f, kernel) in ropes)
            if (f.AsSpan().SequenceEqual(frequencies)) return kernel;
        var made = new RopeKernel(config.HeadDim, frequencies, config.ContextLength, config.RopeStyle);
        ropes.Add((frequencies, made));
        return made;
    }
}
