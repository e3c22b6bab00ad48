using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// The activations of one step on the device, grown to the largest step seen. Widths: dim = residual, qd = heads·headDim,
/// kvd = kvHeads·headDim, hidden = feed-forward.
/// </summary>
internal sealed class DeviceRunState(Accelerator a) : IDisposable
{
    /// <summary>The step's uploads, one copy per type: ints (positions, cache rows, token tables, block tables, logit rows), floats (embeddings, cos, sin).</summary>
    public StagingBuffer<int> StagedInts { get; } = new(a);
    public StagingBuffer<float> StagedFloats { get; } = new(a);
    /// <summary>x, the residual stream, starting as the staged embeddings. (tokens, dim)</summary>
    public StagedRegion<float> Residual { get; } = new();
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
    /// <summary>Tiled attention's tiles, staged with the ints: (first token, tokens) pairs of one sequence each. (tiles, 2)</summary>
    public StagedRegion<int> AttentionTiles { get; } = new();
    /// <summary>gate|up. (tokens, 2·hidden)</summary>
    public GrowingBuffer<float> GateUp { get; } = new(a);
    /// <summary>silu(gate)·up. (tokens, hidden)</summary>
    public GrowingBuffer<float> Hidden { get; } = new(a);
    /// <summary>n(x) of the logit rows, then logits. (rows, dim), (rows, vocab)</summary>
    public GrowingBuffer<float> Final { get; } = new(a);
    public GrowingBuffer<float> Logits { get; } = new(a);
    /// <summary>The logits' copy on the host, page-locked so the copy back needs no staging. (rows, vocab)</summary>
    public PinnedBuffer<float> HostLogits { get; } = new(a);
    /// <summary>RoPE angles per layer (or one set for all): (layers or 1, tokens, headDim/2) each.</summary>
    public StagedRegion<float> Cos { get; } = new();
    public StagedRegion<float> Sin { get; } = new();
    /// <summary>Per token: position, cache row written, its sequence's row of <see cref="Tables"/>. (tokens)</summary>
    public StagedRegion<int> Positions { get; } = new();
    public StagedRegion<int> CacheRows { get; } = new();
    public StagedRegion<int> TokenTables { get; } = new();
    /// <summary>Block tables of the step's sequences, indexed by absolute block number. (sequences, tableWidth)</summary>
    public StagedRegion<int> Tables { get; } = new();
    /// <summary>Indices of the logit rows. (rows)</summary>
    public StagedRegion<int> LogitRows { get; } = new();
    /// <summary>One float and one int, passed where a kernel takes a view it does not read in this model.</summary>
    public GrowingBuffer<float> UnusedFloats { get; } = new(a);
    public GrowingBuffer<int> UnusedInts { get; } = new(a);
    /// <summary>ALiBi slopes (heads), or one unused value.</summary>
    public GrowingBuffer<float> Slopes { get; } = new(a);

    public void Dispose()
    {
        foreach (var b in new IDisposable[] { StagedInts, StagedFloats, Normed, Q8Levels, Q8Scales, QueryKeyValue, Attention, AttentionPartials, GateUp, Hidden, Final,
            Logits, HostLogits, UnusedFloats, UnusedInts, Slopes }) b.Dispose();
    }
}
