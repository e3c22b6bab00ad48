using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Training;

/// <summary>
/// Every parameter of an open_lm model for full training, in the order and under the names of the DCLM
/// checkpoint (RoPE frequency buffers are not parameters and are left out). Each tensor holds its own
/// values and gradient, so the optimizer, clipping and checkpoints run tensor by tensor and a model of any
/// size fits (DCLM-7B's largest tensor, the 50432 × 4096 head, is 206M values).
/// </summary>
public sealed class ModelParameters
{
    private readonly Dictionary<string, ParameterTensor> _byName;

    public ModelParameters(ModelConfig config)
    {
        Config = config.Validate();
        if (config.Architecture != Architecture.OpenLm) throw new ArgumentException("full training supports open_lm (DCLM) models");
        if (config.KeyValueHeads != config.Heads) throw new ArgumentException("open_lm models have as many key/value heads as query heads");
        var tensors = new List<ParameterTensor>();
        foreach (var (name, shape) in OpenLmCheckpointWriter.Tensors(config))
        {
            if (name.EndsWith("inv_freq", StringComparison.Ordinal)) continue;
            tensors.Add(new ParameterTensor(name, shape, shape.Length == 1));
        }
        Tensors = tensors;
        Count = tensors.Sum(t => (long)t.Length);
        _byName = tensors.ToDictionary(t => t.Name);
        Embedding = this["model.tok_embeddings.weight"];
        Head = config.TiedEmbeddings ? Embedding : this["model.output.weight"];
        FinalNorm = this["model.norm.weight"];
        Layers = Enumerable.Range(0, config.Layers).Select(i => new LayerParameters(this, i, config.QueryKeyNorm == QueryKeyNorm.FullWidth)).ToArray();
    }

    /// <summary>The model these parameters belong to.</summary>
    public ModelConfig Config { get; }
    /// <summary>All tensors in checkpoint order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }
    /// <summary>Total number of parameters.</summary>
    public long Count { get; }
    /// <summary>Token embedding. (vocab, dim)</summary>
    public ParameterTensor Embedding { get; }
    /// <summary>Output head; the embedding itself when tied. (vocab, dim)</summary>
    public ParameterTensor Head { get; }
    /// <summary>Final norm gain. (dim)</summary>
    public ParameterTensor FinalNorm { get; }
    /// <summary>Per-block tensors.</summary>
    public IReadOnlyList<LayerParameters> Layers { get; }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    public ParameterTensor this[string name] => _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no parameter named {name}");

    /// <summary>True when a tensor of that name exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);
}

/// <summary>The tensors of one transformer block.</summary>
public sealed class LayerParameters
{
    internal LayerParameters(ModelParameters parameters, int index, bool qkNorm)
    {
        string p = $"model.layers.{index}.";
        AttentionNorm = parameters[p + "attention_norm.weight"];
        InProjection = parameters[p + "attention.in_proj.weight"];
        QueryNorm = qkNorm ? parameters[p + "attention.q_norm.weight"] : null;
        KeyNorm = qkNorm ? parameters[p + "attention.k_norm.weight"] : null;
        OutProjection = parameters[p + "attention.out_proj.weight"];
        FeedForwardNorm = parameters[p + "ffn_norm.weight"];
        GateUp = parameters[p + "feed_forward.w12.weight"];
        Down = parameters[p + "feed_forward.w3.weight"];
    }

    /// <summary>Pre-attention norm gain. (dim)</summary>
    public ParameterTensor AttentionNorm { get; }
    /// <summary>Fused Q, K, V projection. (3·dim, dim)</summary>
    public ParameterTensor InProjection { get; }
    /// <summary>qk-norm gain over all of Q. (dim)</summary>
    public ParameterTensor? QueryNorm { get; }
    /// <summary>qk-norm gain over all of K. (dim)</summary>
    public ParameterTensor? KeyNorm { get; }
    /// <summary>Attention output projection. (dim, dim)</summary>
    public ParameterTensor OutProjection { get; }
    /// <summary>Pre-feed-forward norm gain. (dim)</summary>
    public ParameterTensor FeedForwardNorm { get; }
    /// <summary>SwiGLU gate and up projections, gate rows first. (2·hidden, dim)</summary>
    public ParameterTensor GateUp { get; }
    /// <summary>Down projection. (dim, hidden)</summary>
    public ParameterTensor Down { get; }
}
