using Dclm.Models;

namespace Dclm.Training;

/// <summary>What the forward pass of one block saves for its backward pass. N = batch·sequence tokens.</summary>
internal sealed class LayerActivations
{
    public LayerActivations(ModelConfig c, int batch, int sequence)
    {
        int n = batch * sequence, d = c.Dim, qd = c.QueryDim, kv = c.KeyValueDim, h = c.HiddenDim;
        AttentionNormed = new float[n * d];
        AttentionMean = new float[n]; AttentionInverseStd = new float[n];
        QueryRaw = new float[n * qd]; KeyRaw = new float[n * kv]; Value = new float[n * kv];
        Query = new float[n * qd]; Key = new float[n * kv];
        QueryMean = new float[n * c.Heads]; QueryInverseStd = new float[n * c.Heads];
        KeyMean = new float[n * c.KeyValueHeads]; KeyInverseStd = new float[n * c.KeyValueHeads];
        Attention = new float[n * qd];
        Probabilities = new float[(long)batch * c.Heads * sequence * sequence];
        Middle = new float[n * d];
        FeedForwardNormed = new float[n * d];
        FeedForwardMean = new float[n]; FeedForwardInverseStd = new float[n];
        Gate = new float[n * h]; Up = new float[n * h]; Hidden = new float[n * h];
    }

    /// <summary>Pre-attention norm output. (N, d)</summary>
    public float[] AttentionNormed;
    /// <summary>Its per-row mean and 1/std (1/rms for RMSNorm). (N)</summary>
    public float[] AttentionMean, AttentionInverseStd;
    /// <summary>Projection outputs (biases added), before q/k-norm and RoPE. (N, qd), (N, kvd), (N, kvd)</summary>
    public float[] QueryRaw, KeyRaw, Value;
    /// <summary>Queries and keys after q/k-norm and RoPE. (N, qd), (N, kvd)</summary>
    public float[] Query, Key;
    /// <summary>q/k-norm statistics: one per row (full width) or per row and head. (N·heads), (N·kvHeads)</summary>
    public float[] QueryMean, QueryInverseStd, KeyMean, KeyInverseStd;
    /// <summary>Attention output before the output projection. (N, qd)</summary>
    public float[] Attention;
    /// <summary>Softmax probabilities. (batch·heads, T, T)</summary>
    public float[] Probabilities;
    /// <summary>Residual stream after the attention block. (N, d)</summary>
    public float[] Middle;
    /// <summary>Pre-feed-forward norm output. (N, d)</summary>
    public float[] FeedForwardNormed;
    /// <summary>Its per-row statistics. (N)</summary>
    public float[] FeedForwardMean, FeedForwardInverseStd;
    /// <summary>Gate and up projections and their SwiGLU. (N, h) each</summary>
    public float[] Gate, Up, Hidden;
}

/// <summary>
/// Saved activations of a forward pass and scratch space for the backward pass, for one batch shape. With
/// activation checkpointing only each block's input is kept and one set of block activations is reused,
/// recomputed block by block during the backward pass.
/// </summary>
internal sealed class TrainingActivations
{
    public TrainingActivations(ModelConfig c, int batch, int sequence, int headChunk, bool checkpointing)
    {
        Batch = batch;
        Sequence = sequence;
        Checkpointing = checkpointing;
        int n = batch * sequence, d = c.Dim, qd = c.QueryDim, kv = c.KeyValueDim, h = c.HiddenDim;
        LayerInputs = Enumerable.Range(0, c.Layers + 1).Select(_ => new float[n * d]).ToArray();
        Layers = Enumerable.Range(0, checkpointing ? 1 : c.Layers).Select(_ => new LayerActivations(c, batch, sequence)).ToArray();
        FinalNormed = new float[n * d];
        FinalMean = new float[n]; FinalInverseStd = new float[n];
        CrossEntropy = new float[n]; ZSquared = new float[n];
        Logits = new float[(long)headChunk * c.VocabularySize];
        Gradient = new float[n * d];
        GradientMiddle = new float[n * d];
        GradientNormed = new float[n * d];
        GradientAttention = new float[n * qd];
        GradientQuery = new float[n * qd];
        GradientKey = new float[n * kv]; GradientKeyRaw = new float[n * kv]; GradientValue = new float[n * kv];
        GradientHidden = new float[n * h];
        Positions = new int[n];
        DocumentStarts = new int[n];
        Targets = new int[n];
    }

    public int Batch { get; }
    public int Sequence { get; }
    public bool Checkpointing { get; }
    /// <summary>Residual stream entering each block; the last is the stack's output. (layers + 1, N, d)</summary>
    public float[][] LayerInputs;
    /// <summary>Per-block saved activations: one per block, or a single set reused under checkpointing.</summary>
    public LayerActivations[] Layers;
    /// <summary>Final norm output and its statistics. (N, d), (N)</summary>
    public float[] FinalNormed, FinalMean, FinalInverseStd;
    /// <summary>Per-token cross-entropy and Z². (N) each</summary>
    public float[] CrossEntropy, ZSquared;
    /// <summary>Logits (then their gradient) of one chunk of rows. (chunk, vocab)</summary>
    public float[] Logits;
    /// <summary>
    /// Backward scratch: residual gradients and per-op gradients. (The gate's and up's gradients overwrite the saved
    /// gate and up, the raw queries' the attention output's, once those are spent.)
    /// </summary>
    public float[] Gradient, GradientMiddle, GradientNormed, GradientAttention, GradientQuery, GradientKey, GradientKeyRaw, GradientValue, GradientHidden;
    /// <summary>Each row's RoPE position and the row (within its sequence) where its document starts. (N)</summary>
    public int[] Positions, DocumentStarts;
    /// <summary>The targets that count: negative where there is none or the loss mask drops it. (N)</summary>
    public int[] Targets;

    /// <summary>The activations block <paramref name="layer"/> saves into.</summary>
    public LayerActivations For(int layer) => Checkpointing ? Layers[0] : Layers[layer];
}
