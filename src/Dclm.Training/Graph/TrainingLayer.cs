using Dclm.Models;
using Dclm.Training.Kernels;

namespace Dclm.Training.Graph;

/// <summary>The pieces of one transformer block as the training graph sees them.</summary>
public sealed class TrainingLayer
{
    /// <summary>Pre-attention norm.</summary>
    public required NormLayer AttentionNorm { get; init; }
    /// <summary>Query projection. (qd, d)</summary>
    public required Projection Query { get; init; }
    /// <summary>Key projection. (kvd, d)</summary>
    public required Projection Key { get; init; }
    /// <summary>Value projection. (kvd, d)</summary>
    public required Projection Value { get; init; }
    /// <summary>Frozen biases added after the Q, K, V projections (Qwen2), or null. (qd), (kvd), (kvd)</summary>
    public float[]? QueryBias { get; init; }
    /// <inheritdoc cref="QueryBias"/>
    public float[]? KeyBias { get; init; }
    /// <inheritdoc cref="QueryBias"/>
    public float[]? ValueBias { get; init; }
    /// <summary>Which q/k norm, and its two norms (null for <see cref="QueryKeyNorm.None"/>).</summary>
    public QueryKeyNorm QueryKeyNormKind { get; init; }
    /// <inheritdoc cref="QueryKeyNormKind"/>
    public NormLayer? QueryNorm { get; init; }
    /// <inheritdoc cref="QueryKeyNormKind"/>
    public NormLayer? KeyNorm { get; init; }
    /// <summary>RoPE tables of this layer's frequencies, or null without positions.</summary>
    public RopeKernel? Rope { get; init; }
    /// <summary>Attention output projection. (d, qd)</summary>
    public required Projection Output { get; init; }
    /// <summary>Pre-feed-forward norm.</summary>
    public required NormLayer FeedForwardNorm { get; init; }
    /// <summary>SwiGLU gate projection. (h, d)</summary>
    public required Projection Gate { get; init; }
    /// <summary>SwiGLU up projection. (h, d)</summary>
    public required Projection Up { get; init; }
    /// <summary>Down projection. (d, h)</summary>
    public required Projection Down { get; init; }
}
