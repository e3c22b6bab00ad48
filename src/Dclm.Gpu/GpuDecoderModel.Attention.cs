using Dclm.Gpu.Kernels;
using Dclm.Models;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

public sealed partial class GpuDecoderModel
{
    /// <summary>Environment variable that picks the attention kernel: <c>tiled</c> (default) or <c>warp</c> (the per-warp kernel, for A/B runs).</summary>
    public const string AttentionKernelVariable = "DCLM_GPU_ATTENTION";

    /// <summary>
    /// Whether attention runs <see cref="TiledAttentionKernel"/> (keys and values staged in shared memory for a tile of query
    /// rows) rather than <see cref="AttentionKernel"/>'s warp per (token, head); the tests run both.
    /// </summary>
    internal bool TiledAttention { get; set; } = ParseAttentionKernel(Environment.GetEnvironmentVariable(AttentionKernelVariable));

    /// <summary>True for <c>tiled</c>, unset or empty; false for <c>warp</c>; anything else is an error naming the variable.</summary>
    internal static bool ParseAttentionKernel(string? value)
    {
        string name = value?.Trim() ?? "";
        if (name.Length == 0 || name.Equals("tiled", StringComparison.OrdinalIgnoreCase)) return true;
        if (name.Equals("warp", StringComparison.OrdinalIgnoreCase)) return false;
        throw new ArgumentException($"{AttentionKernelVariable}='{value}' is not an attention kernel (tiled or warp)");
    }

    private int _attentionSplits = 1, _attentionTiles, _tileTokens = 1;

    /// <summary>
    /// The step's attention plan: splits per (token, head) (<see cref="AttentionSplits"/>) and, for the tiled kernel, tiles of
    /// consecutive tokens of one sequence, <see cref="_attentionTiles"/> (first token, count) pairs written into <paramref name="tiles"/> (the step's staged ints, room for one tile per token): one token per tile in decode
    /// steps, in prefill as many as <see cref="TiledAttentionKernel.MaxRows"/> rows allow.
    /// </summary>
    private void PlanAttention(ForwardBatch batch, Span<int> tiles)
    {
        _attentionSplits = AttentionSplits(batch);
        _attentionTiles = 0;
        if (!UsesTiledAttention) return;
        _tileTokens = batch.Count <= MatrixKernels.DecodeTokens ? 1 : Math.Max(1, TileRows / TileHeadBlock);
        int count = 0;
        for (int t = 0; t < batch.Count; t++)
        {
            bool extends = count > 0 && batch.Slots[t] == batch.Slots[tiles[2 * count - 2]] && tiles[2 * count - 1] < _tileTokens;
            if (extends)
            {
                tiles[2 * count - 1]++;
                continue;
            }
            tiles[2 * count] = t;
            tiles[2 * count + 1] = 1;
            count++;
        }
        _attentionTiles = count;
    }

    /// <summary>The tiled kernel runs when asked for, loaded, and the head width fits its shared buffers (a multiple of 4, at most 256).</summary>
    private bool UsesTiledAttention => TiledAttention && _kernels.TiledAttend is not null && Config.HeadDim % 4 == 0 && Config.HeadDim <= 256;

    /// <summary>Rows (token, head) a tile holds at this head width: 16 up to width 128, 8 up to 256.</summary>
    private int TileRows => Math.Min(TiledAttentionKernel.MaxRows, TiledAttentionKernel.RowFloats / Config.HeadDim);

    /// <summary>Query heads per group: the largest divisor of heads per KV head that fits a tile, so a group reads one KV head.</summary>
    private int TileHeadBlock
    {
        get
        {
            int ratio = Config.Heads / Config.KeyValueHeads, block = Math.Min(ratio, TileRows);
            while (ratio % block != 0) block--;
            return block;
        }
    }

    /// <summary>
    /// attention = softmax(q·kᵀ/√d − ALiBi)·v for every token and head: a group per (tile, head block) with the tiled kernel
    /// (or a warp per (token, head)), or in decode steps whose contexts pass <see cref="AttentionSplitLength"/>, one per split
    /// of it and a combine (flash-decoding).
    /// </summary>
    private void Attend(int index, int n, DeviceKvCache cache, ArrayView<float> qkv, AttentionShape shape, ArrayView<float> attention)
    {
        var k = _kernels;
        int warp = _device.Accelerator.WarpSize, heads = Config.Heads;
        var keys = cache.Keys(index);
        var values = cache.Values(index);
        var tables = _state.Tables.Ensure(_tableLength);
        var tokenTables = _state.TokenTables.Ensure(n);
        var positions = _state.Positions.Ensure(n);
        var slopes = _state.Slopes.Ensure(_slopes?.Length ?? 1);
        ArrayView<float> partials = shape.Splits > 1 ? _state.AttentionPartials.Ensure((long)n * heads * shape.Splits * (shape.HeadDim + 2)) : attention;
        if (UsesTiledAttention)
        {
            int threads = TileShape(ref shape);
            var config = new KernelConfig(_attentionTiles * (heads / shape.HeadBlock) * shape.Splits, threads);
            k.TiledAttend!(config, qkv, keys, values, tables, tokenTables, positions, slopes, _state.AttentionTiles.Ensure(2 * _attentionTiles), shape, partials);
        }
        else if (shape.Splits <= 1) k.Attend(new KernelConfig(n * heads, warp), qkv, keys, values, tables, tokenTables, positions, slopes, shape, attention);
        else k.AttendSplit(new KernelConfig(n * heads * shape.Splits, warp), qkv, keys, values, tables, tokenTables, positions, slopes, shape, partials);
        if (shape.Splits > 1) k.Combine(new KernelConfig(n * heads, warp), partials, positions, shape, attention);
    }

    /// <summary>
    /// Fills the tiled kernel's launch constants into <paramref name="shape"/> and returns its threads per group: up to
    /// <see cref="TiledAttentionKernel.Threads"/> threads (whole warps); 32 positions per chunk (16 past width 128); lanes
    /// per dot T the largest power of two with T·rows·positions within the group (decode tiles have few rows, so several
    /// lanes share each q·k), padding each staged row by T floats so a warp's dot reads hit distinct banks. All of it depends
    /// only on the model, the device and whether the step is a decode step, never on the batch's contents.
    /// </summary>
    private int TileShape(ref AttentionShape shape)
    {
        int warp = _device.Accelerator.WarpSize, d = Config.HeadDim;
        int threads = Math.Min(TiledAttentionKernel.Threads, _device.Accelerator.MaxNumThreadsPerGroup) / warp * warp;
        int length = d <= 128 ? 32 : 16, rows = _tileTokens * TileHeadBlock, lanes = 1;
        while (2 * lanes * rows * length <= threads && 2 * lanes <= warp && length * (d + 2 * lanes) <= TiledAttentionKernel.ChunkFloats) lanes *= 2;
        shape.HeadBlock = TileHeadBlock;
        shape.ChunkLength = length;
        shape.ThreadsPerDot = lanes;
        shape.KeyStride = d + lanes;
        shape.Partials = shape.Splits > 1 ? 1 : 0;
        return threads;
    }

    /// <summary>
    /// Splits per (token, head) for this step: in decode steps (≤ <see cref="MatrixKernels.DecodeTokens"/> tokens) the most any
    /// token's visible context needs at <see cref="AttentionSplitLength"/> positions each; 1 in prefill, whose tokens fill the device.
    /// </summary>
    private int AttentionSplits(ForwardBatch batch)
    {
        if (batch.Count > MatrixKernels.DecodeTokens) return 1;
        int splits = 1;
        for (int t = 0; t < batch.Count; t++)
        {
            int position = batch.Positions[t], first = Config.SlidingWindow > 0 ? Math.Max(0, position - Config.SlidingWindow + 1) : 0;
            splits = Math.Max(splits, (position - first) / AttentionSplitLength + 1);
        }
        return splits;
    }
}
