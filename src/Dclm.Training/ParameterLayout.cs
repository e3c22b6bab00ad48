using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Training;

/// <summary>One named tensor inside the flat parameter array.</summary>
/// <param name="Name">apple/DCLM-7B key, e.g. model.layers.0.attention.in_proj.weight.</param>
/// <param name="Shape">Row-major shape.</param>
/// <param name="Offset">First element in the flat array.</param>
/// <param name="IsNorm">A norm gain: initialised to one and never weight-decayed.</param>
public sealed record ParameterTensor(string Name, long[] Shape, int Offset, bool IsNorm)
{
    /// <summary>Number of elements.</summary>
    public int Length => (int)Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>Rows of a matrix (the only dimension of a vector).</summary>
    public int Rows => (int)Shape[0];
    /// <summary>Columns of a matrix (1 for a vector).</summary>
    public int Columns => Shape.Length > 1 ? (int)Shape[1] : 1;
}

/// <summary>
/// Where every parameter of an open_lm model lives in one flat fp32 array, in the order and under the
/// names of the DCLM checkpoint (RoPE frequency buffers are not parameters and are left out). One array
/// lets the optimizer, gradient clipping and checkpoints run over a single span.
/// </summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterTensor> _byName;

    public ParameterLayout(ModelConfig config)
    {
        Config = config.Validate();
        if (config.Architecture != Architecture.OpenLm) throw new ArgumentException("training supports open_lm (DCLM) models");
        if (config.KeyValueHeads != config.Heads) throw new ArgumentException("open_lm models have as many key/value heads as query heads");
        var tensors = new List<ParameterTensor>();
        long offset = 0;
        foreach (var (name, shape) in OpenLmCheckpointWriter.Tensors(config))
        {
            if (name.EndsWith("inv_freq", StringComparison.Ordinal)) continue;
            var tensor = new ParameterTensor(name, shape, (int)offset, shape.Length == 1);
            offset += tensor.Length;
            if (offset > Array.MaxLength) throw new ArgumentException($"the model has more than {Array.MaxLength} parameters, too many for one fp32 array");
            tensors.Add(tensor);
        }
        Tensors = tensors;
        Count = (int)offset;
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
    public int Count { get; }
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
    internal LayerParameters(ParameterLayout layout, int index, bool qkNorm)
    {
        string p = $"model.layers.{index}.";
        AttentionNorm = layout[p + "attention_norm.weight"];
        InProjection = layout[p + "attention.in_proj.weight"];
        QueryNorm = qkNorm ? layout[p + "attention.q_norm.weight"] : null;
        KeyNorm = qkNorm ? layout[p + "attention.k_norm.weight"] : null;
        OutProjection = layout[p + "attention.out_proj.weight"];
        FeedForwardNorm = layout[p + "ffn_norm.weight"];
        GateUp = layout[p + "feed_forward.w12.weight"];
        Down = layout[p + "feed_forward.w3.weight"];
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
