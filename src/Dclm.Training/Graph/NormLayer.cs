using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Training.Kernels;

namespace Dclm.Training.Graph;

/// <summary>A gain-only LayerNorm or an RMSNorm over rows, with a gain that trains or is frozen.</summary>
public sealed class NormLayer(NormKind kind, ParameterTensor gain, float eps)
{
    /// <summary>The gain. (width)</summary>
    public ParameterTensor Gain { get; } = gain;
    /// <summary>LayerNorm or RMSNorm.</summary>
    public NormKind Kind { get; } = kind;

    /// <summary>y = norm(x) ⊙ gain row by row, saving each row's mean (LayerNorm) and 1/std or 1/rms.</summary>
    public void Forward(ReadOnlySpan<float> x, int xStride, int rows, Span<float> y, int yStride, Span<float> mean, Span<float> inverseStd, ComputePool pool)
    {
        if (Kind == NormKind.LayerNorm) LayerNormKernel.Forward(x, xStride, Gain.Values, eps, rows, Gain.Length, y, yStride, mean, inverseStd, pool);
        else RmsNormKernel.Forward(x, xStride, Gain.Values, eps, rows, Gain.Length, y, yStride, inverseStd, pool);
    }

    /// <summary>dx (+)= the norm's backward of dy; the gain's gradient too when it trains.</summary>
    public void Backward(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseStd,
        int rows, Span<float> dx, int dxStride, bool accumulate, ComputePool pool)
    {
        var gainGradient = Gain.Gradient is { } g ? g.AsSpan() : Span<float>.Empty;
        if (Kind == NormKind.LayerNorm)
            LayerNormKernel.Backward(dy, dyStride, x, xStride, Gain.Values, mean, inverseStd, rows, Gain.Length, dx, dxStride, accumulate, gainGradient, pool);
        else
            RmsNormKernel.Backward(dy, dyStride, x, xStride, Gain.Values, inverseStd, rows, Gain.Length, dx, dxStride, accumulate, gainGradient, pool);
    }
}
