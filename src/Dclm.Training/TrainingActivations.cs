using Dclm.Models;

namespace Dclm.Training;

/// <summary>What the forward pass of one block saves for its backward pass. N = batch·sequence tokens.</summary>
internal sealed class LayerActivations
{
    public LayerActivations(ModelConfig c, int batch, int sequence)
    {
        int n = batch * sequence, d = c.Dim, h = c.HiddenDim;
        Input = new float[n * d];
        AttentionNormed = new float[n * d];
        AttentionMean = new float[n]; AttentionInverseStd = new float[n];
        QueryKeyValue = new float[n * 3 * d];
        Query = new float[n * d];
        Key = new float[n * d];
        QueryMean = new float[n]; QueryInverseStd = new float[n];
        KeyMean = new float[n]; KeyInverseStd = new float[n];
        Attention = new float[n * d];
        Probabilities = new float[(long)batch * c.Heads * sequence * sequence];
        Middle = new float[n * d];
        FeedForwardNormed = new float[n * d];
        FeedForwardMean = new float[n]; FeedForwardInverseStd = new float[n];
        GateUp = new float[n * 2 * h];
        Hidden = new float[n * h];
    }

    /// <summary>Residual stream entering the block. (N, dim)</summary>
    public float[] Input;
    /// <summary>Pre-attention norm output. (N, dim)</summary>
    public float[] AttentionNormed;
    /// <summary>Its per-row mean and 1/std. (N)</summary>
    public float[] AttentionMean, AttentionInverseStd;
    /// <summary>Fused projection output [q | k | v], before qk-norm. (N, 3·dim)</summary>
    public float[] QueryKeyValue;
    /// <summary>Queries and keys after qk-norm and RoPE. (N, dim) each</summary>
    public float[] Query, Key;
    /// <summary>qk-norm statistics. (N) each</summary>
    public float[] QueryMean, QueryInverseStd, KeyMean, KeyInverseStd;
    /// <summary>Attention output before out_proj. (N, dim)</summary>
    public float[] Attention;
    /// <summary>Softmax probabilities. (batch·heads, T, T)</summary>
    public float[] Probabilities;
    /// <summary>Residual stream after the attention block. (N, dim)</summary>
    public float[] Middle;
    /// <summary>Pre-feed-forward norm output. (N, dim)</summary>
    public float[] FeedForwardNormed;
    /// <summary>Its per-row mean and 1/std. (N)</summary>
    public float[] FeedForwardMean, FeedForwardInverseStd;
    /// <summary>w12 output [gate | up]. (N, 2·hidden)</summary>
    public float[] GateUp;
    /// <summary>SwiGLU output. (N, hidden)</summary>
    public float[] Hidden;
}

/// <summary>Saved activations of a whole forward pass and scratch space for the backward pass, for one batch shape.</summary>
internal sealed class TrainingActivations
{
    public TrainingActivations(ModelConfig c, int batch, int sequence, int headChunk)
    {
        Batch = batch;
        Sequence = sequence;
        int n = batch * sequence, d = c.Dim, h = c.HiddenDim;
        Layers = Enumerable.Range(0, c.Layers).Select(_ => new LayerActivations(c, batch, sequence)).ToArray();
        Output = new float[n * d];
        FinalNormed = new float[n * d];
        FinalMean = new float[n]; FinalInverseStd = new float[n];
        CrossEntropy = new float[n]; ZSquared = new float[n];
        Logits = new float[(long)headChunk * c.VocabularySize];
        Gradient = new float[n * d];
        GradientMiddle = new float[n * d];
        GradientNormed = new float[n * d];
        GradientAttention = new float[n * d];
        GradientQueryKeyValue = new float[n * 3 * d];
        GradientQuery = new float[n * d];
        GradientKey = new float[n * d];
        GradientHidden = new float[n * h];
        GradientGateUp = new float[n * 2 * h];
    }

    public int Batch { get; }
    public int Sequence { get; }
    public LayerActivations[] Layers;
    /// <summary>Residual stream after the last block. (N, dim)</summary>
    public float[] Output;
    /// <summary>Final norm output. (N, dim)</summary>
    public float[] FinalNormed;
    public float[] FinalMean, FinalInverseStd;
    /// <summary>Per-token cross-entropy and Z². (N) each</summary>
    public float[] CrossEntropy, ZSquared;
    /// <summary>Logits (then their gradient) of one chunk of rows. (chunk, vocab)</summary>
    public float[] Logits;
    /// <summary>Backward scratch: residual gradients and per-op gradients.</summary>
    public float[] Gradient, GradientMiddle, GradientNormed, GradientAttention, GradientQueryKeyValue, GradientQuery, GradientKey, GradientHidden, GradientGateUp;
}
