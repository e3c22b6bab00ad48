using Dclm.Gpu.Kernels;
using Dclm.Models;
using Dclm.Tensors.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>An input of a projection: floats (tokens, width), and where <see cref="Quantized"/>, their Q8_0 levels and scales.</summary>
internal readonly record struct ProjectionInput(ArrayView<float> Values, ArrayView<int> Levels, ArrayView<float> Scales, bool Quantized)
{
    /// <summary>Floats only: a quantized matrix quantizes them first.</summary>
    public static ProjectionInput Floats(ArrayView<float> values) => new(values, default, default, false);
}

public sealed partial class GpuDecoderModel
{
    /// <summary>Environment variable that turns the fused element kernels off ("0"), for an A/B run on a device.</summary>
    public const string FusedVariable = "DCLM_GPU_FUSED";

    /// <summary>
    /// Whether a step runs the fused element kernels (<see cref="FusedKernels"/>: one launch for norm + Q8_0, for
    /// SwiGLU + Q8_0, for biases + q/k norms + RoPE + the KV store, for the head's gather + norm + Q8_0) or the
    /// unfused sequence they replace. Both give the same bits; on unless <see cref="FusedVariable"/> is "0".
    /// </summary>
    internal bool UsesFusedKernels { get; set; } = Environment.GetEnvironmentVariable(FusedVariable) != "0";

    /// <summary>
    /// y = n(x) for <paramref name="rows"/> rows of dim, reading row <paramref name="gather"/>[r] for row r when given (the
    /// head's logit rows), and with <paramref name="quantize"/> y's Q8_0 levels too: one launch fused, up to three not.
    /// </summary>
    private ProjectionInput NormRows(ArrayView<float> x, ArrayView<int> gather, int rows, ArrayView<float> gain, ArrayView<float> y, bool quantize)
    {
        int d = Config.Dim;
        bool layerNorm = Config.Norm == NormKind.LayerNorm, gathers = gather.IsValid;
        if (!UsesFusedKernels)
        {
            if (gathers)
            {
                _kernels.GatherRows(rows * d, x, gather, d, y);
                x = y;
            }
            Norm(x, d, 0, y, d, 0, rows, 1, d, gain, layerNorm);
            return ProjectionInput.Floats(y);
        }
        var levels = quantize ? _state.Q8Levels.Ensure((long)rows * d / 4) : _state.UnusedInts.Ensure(1);
        var scales = quantize ? _state.Q8Scales.Ensure((long)rows * d / 32) : _state.UnusedFloats.Ensure(1);
        var shape = new NormShape { InputStride = d, OutputStride = d, Pieces = 1, Width = d, LayerNorm = layerNorm ? 1 : 0, Epsilon = Config.NormEps,
            Gather = gathers ? 1 : 0, Quantize = quantize ? 1 : 0 };
        _kernels.NormRows(new KernelConfig(rows, _kernels.NormThreads), x, gathers ? gather : _state.UnusedInts.Ensure(1), y, gain, shape, levels, scales);
        return new ProjectionInput(y, levels, scales, quantize);
    }

    /// <summary>hidden = silu(gate)·up (tokens, hidden), with <paramref name="quantize"/> and fused kernels its Q8_0 levels in the same launch.</summary>
    private ProjectionInput SwiGlu(int n, ArrayView<float> gateUp, ArrayView<float> hidden, bool quantize)
    {
        int h = Config.HiddenDim;
        if (!UsesFusedKernels || !quantize)
        {
            _kernels.SwiGlu(n * h, gateUp, h, hidden);
            return ProjectionInput.Floats(hidden);
        }
        var levels = _state.Q8Levels.Ensure((long)n * h / 4);
        var scales = _state.Q8Scales.Ensure((long)n * h / 32);
        _kernels.SwiGluQuantize(n * h / 32, gateUp, h, hidden, levels, scales);
        return new ProjectionInput(hidden, levels, scales, Quantized: true);
    }

    /// <summary>
    /// q|k|v += b (Qwen2); q ← n_q(q), k ← n_k(k) over the full width (open_lm, the model's norm) or each head (Qwen3,
    /// RMS); RoPE on q and k; k and v into the cache at each token's row. One launch fused, up to seven not.
    /// </summary>
    private void PrepareQueryKeyValue(int index, int n, ArrayView<float> qkv, DeviceKvCache cache)
    {
        var c = Config;
        var w = _layers[index];
        int qd = c.QueryDim, kvd = c.KeyValueDim, half = c.HeadDim / 2, stride = qd + 2 * kvd;
        long set = _sharedFrequencies ? 0 : (long)index * n * half;
        var cos = c.UsesRotary ? _state.Cos.Ensure(set + n * half).SubView(set, n * half) : _state.UnusedFloats.Ensure(1);
        var sin = c.UsesRotary ? _state.Sin.Ensure(set + n * half).SubView(set, n * half) : _state.UnusedFloats.Ensure(1);
        var cacheRows = _state.CacheRows.Ensure(n);
        if (!UsesFusedKernels)
        {
            PrepareQueryKeyValueUnfused(index, n, qkv, cos, sin, cacheRows, cache);
            return;
        }
        var unused = _state.UnusedFloats.Ensure(1);
        var shape = new PrepareShape { Stride = stride, QueryDim = qd, KeyValueDim = kvd, Heads = c.Heads, KeyValueHeads = c.KeyValueHeads, HeadDim = c.HeadDim,
            Norm = c.QueryKeyNorm switch { QueryKeyNorm.FullWidth => PrepareShape.FullWidth, QueryKeyNorm.PerHead => PrepareShape.PerHead, _ => PrepareShape.NoNorm },
            LayerNorm = c.QueryKeyNorm == QueryKeyNorm.FullWidth && c.Norm == NormKind.LayerNorm ? 1 : 0, Rotary = c.UsesRotary ? 1 : 0,
            AdjacentPairs = c.RopeStyle == RopeStyle.AdjacentPairs ? 1 : 0, Bias = w.QueryBias is null ? 0 : 1, Epsilon = c.NormEps };
        _kernels.PrepareQueryKeyValue(new KernelConfig(2 * n, _kernels.NormThreads), qkv, w.QueryNorm?.View ?? unused, w.KeyNorm?.View ?? unused,
            w.QueryBias?.View ?? unused, w.KeyBias?.View ?? unused, w.ValueBias?.View ?? unused, cos, sin, cacheRows, cache.Keys(index), cache.Values(index), shape);
    }

    /// <summary><see cref="PrepareQueryKeyValue"/> as one launch per step: the reference the fused kernel must equal bit for bit.</summary>
    private void PrepareQueryKeyValueUnfused(int index, int n, ArrayView<float> qkv, ArrayView<float> cos, ArrayView<float> sin, ArrayView<int> cacheRows,
        DeviceKvCache cache)
    {
        var c = Config;
        var w = _layers[index];
        var k = _kernels;
        int qd = c.QueryDim, kvd = c.KeyValueDim, stride = qd + 2 * kvd;
        if (w.QueryBias is not null)
        {
            k.AddBias(n * qd, qkv, stride, 0, qd, w.QueryBias.View);
            k.AddBias(n * kvd, qkv, stride, qd, kvd, w.KeyBias!.View);
            k.AddBias(n * kvd, qkv, stride, qd + kvd, kvd, w.ValueBias!.View);
        }
        if (c.QueryKeyNorm == QueryKeyNorm.FullWidth)
        {
            Norm(qkv, stride, 0, qkv, stride, 0, n, 1, qd, w.QueryNorm!.View, c.Norm == NormKind.LayerNorm);
            Norm(qkv, stride, qd, qkv, stride, qd, n, 1, kvd, w.KeyNorm!.View, c.Norm == NormKind.LayerNorm);
        }
        else if (c.QueryKeyNorm == QueryKeyNorm.PerHead)
        {
            Norm(qkv, stride, 0, qkv, stride, 0, n, c.Heads, c.HeadDim, w.QueryNorm!.View, layerNorm: false);
            Norm(qkv, stride, qd, qkv, stride, qd, n, c.KeyValueHeads, c.HeadDim, w.KeyNorm!.View, layerNorm: false);
        }
        if (c.UsesRotary)
        {
            var shape = new RopeShape { Stride = stride, Heads = c.Heads, KeyValueHeads = c.KeyValueHeads, HeadDim = c.HeadDim, QueryDim = qd,
                AdjacentPairs = c.RopeStyle == RopeStyle.AdjacentPairs ? 1 : 0 };
            k.Rope(n * (c.Heads + c.KeyValueHeads) * (c.HeadDim / 2), qkv, cos, sin, shape);
        }
        k.StoreKeyValue(n * kvd, qkv, stride, qd, kvd, cacheRows, cache.Keys(index), cache.Values(index));
    }
}
