using Dclm.Models.Projections;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Models.Blocks;

/// <summary>
/// What a <see cref="DecoderBlock"/> reads and writes to run one layer over one lane's batch: the layer's weights and
/// projections, the run state with the residual stream x (tokens, dim), the KV cache and the threads. The whole batch
/// is one lane; a step split by sequence gives each thread a lane of its own.
/// </summary>
internal sealed class LayerStep(ModelConfig config, float[]? alibiSlopes)
{
    private float[][] _inverseFrequencies = [];
    private bool _sharedAngles;

    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; } = config;
    /// <summary>This lane's buffers.</summary>
    public RunState State { get; } = new();
    /// <summary>This lane's attention job.</summary>
    public CausalAttention Attention { get; } = new(config, alibiSlopes);
    /// <summary>This lane's full-width q/k norm (open_lm), which sums its statistics over <see cref="Shards"/>.</summary>
    public FullWidthQueryKeyNorm FullWidthNorm { get; } = new();
    /// <summary>The split of the model over ranks when this is one shard of it (tensor parallelism); null for a whole model.</summary>
    public TensorParallel.TensorParallelism? Shards { get; init; }

    /// <summary>The tokens this lane runs.</summary>
    public ForwardBatch Batch { get; private set; } = null!;
    /// <summary>The cache their keys and values go into.</summary>
    public KvCache Cache { get; private set; } = null!;
    /// <summary>Threads every product and the attention split over.</summary>
    public ComputePool Pool { get; private set; } = null!;
    /// <summary>Index of the layer being run.</summary>
    public int Layer { get; private set; }
    /// <summary>The layer's norms, biases and other vectors.</summary>
    public LayerWeights Weights { get; private set; } = null!;
    /// <summary>The layer's matrix products.</summary>
    public LayerProjections Projections { get; private set; } = null!;

    /// <summary>Number of tokens.</summary>
    public int Count => Batch.Count;
    /// <summary>The batch's tokens as the rows of a projection.</summary>
    public ProjectionRows Rows => ProjectionRows.Tokens(Batch, Pool);

    /// <summary>
    /// Starts a step: embeds the tokens into the residual stream and, when every layer shares its RoPE frequencies
    /// (<paramref name="sharedAngles"/>), computes each token's angles once for all layers.
    /// </summary>
    public void Start(ForwardBatch batch, KvCache cache, ComputePool pool, Tensors.WeightMatrix embedding, float[][] inverseFrequencies, bool sharedAngles)
    {
        (Batch, Cache, Pool, _inverseFrequencies, _sharedAngles) = (batch, cache, pool, inverseFrequencies, sharedAngles);
        State.Ensure(Config, batch.Count);
        int d = Config.Dim, half = Config.HeadDim / 2;
        for (int t = 0; t < batch.Count; t++) Dequantize.Row(embedding, batch.Tokens[t], State.Residual.AsSpan(t * d, d));
        if (Config.UsesRotary && sharedAngles)
            for (int t = 0; t < batch.Count; t++)
                RotaryEmbedding.Angles(batch.Positions[t], inverseFrequencies[0], State.Cos.AsSpan(t * half, half), State.Sin.AsSpan(t * half, half));
    }

    /// <summary>Moves to layer <paramref name="layer"/>.</summary>
    public void Enter(int layer, LayerWeights weights, LayerProjections projections) => (Layer, Weights, Projections) = (layer, weights, projections);

    /// <summary>Ends the step, dropping its references.</summary>
    public void Finish() => (Batch, Cache, Weights, Projections) = (null!, null!, null!, null!);

    /// <summary>destination = n(x) with the model's norm (LayerNorm or RMSNorm) and <paramref name="gain"/>; may be in place.</summary>
    public void Norm(ReadOnlySpan<float> x, ReadOnlySpan<float> gain, Span<float> destination)
    {
        if (Config.Norm == NormKind.LayerNorm) LayerNorm.Apply(x, gain, Config.NormEps, destination);
        else RmsNorm.Apply(x, gain, Config.NormEps, destination);
    }

    /// <summary>Rotates every head of token <paramref name="t"/>'s query and key by its position (when the model uses RoPE).</summary>
    public void Rope(int t, Span<float> query, Span<float> key)
    {
        if (!Config.UsesRotary) return;
        int half = Config.HeadDim / 2;
        Span<float> cos = State.LayerCos, sin = State.LayerSin;
        if (_sharedAngles)
        {
            cos = State.Cos.AsSpan(t * half, half);
            sin = State.Sin.AsSpan(t * half, half);
        }
        else RotaryEmbedding.Angles(Batch.Positions[t], _inverseFrequencies[Layer], cos, sin);
        RotaryEmbedding.Apply(query, Config.HeadDim, cos, sin, Config.RopeStyle);
        RotaryEmbedding.Apply(key, Config.HeadDim, cos, sin, Config.RopeStyle);
    }

    /// <summary>n(x) of every token into <see cref="RunState.Normed"/>, (tokens, dim).</summary>
    public float[] NormResidual(float[] gain)
    {
        int d = Config.Dim;
        for (int t = 0; t < Count; t++) Norm(State.Residual.AsSpan(t * d, d), gain, State.Normed.AsSpan(t * d, d));
        return State.Normed;
    }

    /// <summary>x += <see cref="RunState.BlockOutput"/> for every token.</summary>
    public void AddToResidual()
    {
        int count = Count * Config.Dim;
        System.Numerics.Tensors.TensorPrimitives.Add(State.Residual.AsSpan(0, count), State.BlockOutput.AsSpan(0, count), State.Residual.AsSpan(0, count));
    }
}
