using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// The activations of one step on the device, grown to the largest step seen. Widths: dim = residual, qd = heads·headDim,
/// kvd = kvHeads·headDim, hidden = feed-forward.
/// </summary>
internal sealed class DeviceRunState(Accelerator a) : IDisposable
{
    /// <summary>x, the residual stream. (tokens, dim)</summary>
    public GrowingBuffer<float> Residual { get; } = new(a);
    /// <summary>n(x). (tokens, dim)</summary>
    public GrowingBuffer<float> Normed { get; } = new(a);
    /// <summary>An input quantized to Q8_0 for quantized weights: levels packed four to an int, block scales. (tokens, width/4), (tokens, width/32)</summary>
    public GrowingBuffer<int> Q8Levels { get; } = new(a);
    public GrowingBuffer<float> Q8Scales { get; } = new(a);
    /// <summary>q|k|v rows. (tokens, qd + 2·kvd)</summary>
    public GrowingBuffer<float> QueryKeyValue { get; } = new(a);
    /// <summary>Attention output. (tokens, qd)</summary>
    public GrowingBuffer<float> Attention { get; } = new(a);
    /// <summary>Split attention's partials (acc, max, denominator) per (token, head, split). (tokens, heads, splits, headDim + 2)</summary>
    public GrowingBuffer<float> AttentionPartials { get; } = new(a);
    /// <summary>Tiled attention's tiles: (first token, tokens) pairs of one sequence each. (tiles, 2)</summary>
    public GrowingBuffer<int> AttentionTiles { get; } = new(a);
    /// <summary>gate|up. (tokens, 2·hidden)</summary>
    public GrowingBuffer<float> GateUp { get; } = new(a);
    /// <summary>silu(gate)·up. (tokens, hidden)</summary>
    public GrowingBuffer<float> Hidden { get; } = new(a);
    /// <summary>n(x) of the logit rows, then logits. (rows, dim), (rows, vocab)</summary>
    public GrowingBuffer<float> Final { get; } = new(a);
    public GrowingBuffer<float> Logits { get; } = new(a);
    /// <summary>RoPE angles per layer (or one set for all): (layers or 1, tokens, headDim/2) each.</summary>
    public GrowingBuffer<float> Cos { get; } = new(a);
    public GrowingBuffer<float> Sin { get; } = new(a);
    /// <summary>Per token: position, cache row written, its sequence's row of <see cref="Tables"/>. (tokens)</summary>
    public GrowingBuffer<int> Positions { get; } = new(a);
    public GrowingBuffer<int> CacheRows { get; } = new(a);
    public GrowingBuffer<int> TokenTables { get; } = new(a);
    /// <summary>Block tables of the step's sequences, indexed by absolute block number. (sequences, tableWidth)</summary>
    public GrowingBuffer<int> Tables { get; } = new(a);
    /// <summary>Indices of the logit rows. (rows)</summary>
    public GrowingBuffer<int> LogitRows { get; } = new(a);
    /// <summary>ALiBi slopes (heads), or one unused value.</summary>
    public GrowingBuffer<float> Slopes { get; } = new(a);

    public void Dispose()
    {
        foreach (var b in new IDisposable[] { Residual, Normed, Q8Levels, Q8Scales, QueryKeyValue, Attention, AttentionPartials, AttentionTiles, GateUp, Hidden, Final, Logits, Cos, Sin,
            Positions, CacheRows, TokenTables, Tables, LogitRows, Slopes }) b.Dispose();
    }
}
