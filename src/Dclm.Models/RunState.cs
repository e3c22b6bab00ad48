namespace Dclm.Models;

/// <summary>Activation buffers of one forward step, grown when a larger batch arrives and reused after.</summary>
internal sealed class RunState
{
    public int TokenCapacity { get; private set; }
    /// <summary>Residual stream. (tokens, dim)</summary>
    public float[] Residual = [];
    /// <summary>Normalised residual. (tokens, dim)</summary>
    public float[] Normed = [];
    /// <summary>Queries. (tokens, dim)</summary>
    public float[] Query = [];
    /// <summary>Keys of the batch. (tokens, kvDim)</summary>
    public float[] Key = [];
    /// <summary>Values of the batch. (tokens, kvDim)</summary>
    public float[] Value = [];
    /// <summary>Attention output before projection. (tokens, dim)</summary>
    public float[] Attention = [];
    /// <summary>Projected block output added to the residual. (tokens, dim)</summary>
    public float[] BlockOutput = [];
    /// <summary>Feed-forward gate. (tokens, hidden)</summary>
    public float[] Gate = [];
    /// <summary>Feed-forward up. (tokens, hidden)</summary>
    public float[] Up = [];
    /// <summary>Output of a fused product (Q|K|V or gate|up) before it is split. (tokens, max(dim + 2·kvDim, 2·hidden))</summary>
    public float[] Fused = [];
    /// <summary>Rotary cosines and sines of each token's position. (tokens, headDim / 2)</summary>
    public float[] Cos = [], Sin = [];
    /// <summary>One token's angles for a layer with its own frequencies. (headDim / 2)</summary>
    public float[] LayerCos = [], LayerSin = [];

    public void Ensure(ModelConfig config, int tokens)
    {
        if (tokens <= TokenCapacity) return;
        int capacity = Math.Max(tokens, TokenCapacity * 2);
        Residual = new float[capacity * config.Dim];
        Normed = new float[capacity * config.Dim];
        Query = new float[capacity * config.QueryDim];
        Key = new float[capacity * config.KeyValueDim];
        Value = new float[capacity * config.KeyValueDim];
        Attention = new float[capacity * config.QueryDim];
        BlockOutput = new float[capacity * config.Dim];
        Gate = new float[capacity * config.HiddenDim];
        Up = new float[capacity * config.HiddenDim];
        Fused = new float[capacity * Math.Max(config.QueryDim + 2 * config.KeyValueDim, 2 * config.HiddenDim)];
        Cos = new float[capacity * (config.HeadDim / 2)];
        Sin = new float[capacity * (config.HeadDim / 2)];
        LayerCos = new float[config.HeadDim / 2];
        LayerSin = new float[config.HeadDim / 2];
        TokenCapacity = capacity;
    }
}
