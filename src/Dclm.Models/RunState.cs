namespace Dclm.Models;

/// <summary>
/// Activation buffers of one forward step over one lane's batch, grown when a larger batch arrives and reused after.
/// Widths: dim = residual, qd = heads·headDim, kvd = kvHeads·headDim, hidden = feed-forward.
/// </summary>
internal sealed class RunState
{
    public int TokenCapacity { get; private set; }
    /// <summary>Residual stream x. (tokens, dim)</summary>
    public float[] Residual = [];
    /// <summary>Normalised residual n(x), the input of Q|K|V and of gate|up; at the end, n(x) of the logit rows. (tokens, dim)</summary>
    public float[] Normed = [];
    /// <summary>Output of Q|K|V, (tokens, qd + 2·kvd), or of gate|up, (tokens, 2·hidden): the larger of the two.</summary>
    public float[] Projected = [];
    /// <summary>Attention output before Wo. (tokens, qd)</summary>
    public float[] Attention = [];
    /// <summary>silu(gate) ⊙ up, before W_down. (tokens, hidden)</summary>
    public float[] Hidden = [];
    /// <summary>Wo·attention or W_down·hidden, added to the residual. (tokens, dim)</summary>
    public float[] BlockOutput = [];
    /// <summary>Rotary cosines and sines of each token's position, when every layer shares its frequencies. (tokens, headDim/2)</summary>
    public float[] Cos = [], Sin = [];
    /// <summary>One token's angles for a layer with frequencies of its own. (headDim/2)</summary>
    public float[] LayerCos = [], LayerSin = [];

    public void Ensure(ModelConfig config, int tokens)
    {
        if (tokens <= TokenCapacity) return;
        int capacity = Math.Max(tokens, TokenCapacity * 2), half = config.HeadDim / 2;
        Residual = new float[capacity * config.Dim];
        Normed = new float[capacity * config.Dim];
        Projected = new float[capacity * Math.Max(config.QueryDim + 2 * config.KeyValueDim, 2 * config.HiddenDim)];
        Attention = new float[capacity * config.QueryDim];
        Hidden = new float[capacity * config.HiddenDim];
        BlockOutput = new float[capacity * config.Dim];
        Cos = new float[capacity * half];
        Sin = new float[capacity * half];
        LayerCos = new float[half];
        LayerSin = new float[half];
        TokenCapacity = capacity;
    }
}
