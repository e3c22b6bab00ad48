using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;

namespace Dclm.Training.Graph;

/// <summary>
/// A projection whose base weight is frozen in its stored type (f32, bf16, f16, q8_0, q4_0, q4_k, q6_k),
/// read in place by <see cref="WeightGemm"/>, with any number of LoRA adapters on slices of its rows. Only the
/// adapters train; the base is never copied or dequantized whole.
/// </summary>
public sealed class FrozenProjection : Projection
{
    private readonly WeightMatrix _weight;

    public FrozenProjection(WeightMatrix weight, IReadOnlyList<LoraAdapter>? adapters = null)
    {
        if (!WeightGemm.Supports(weight.Type)) throw new NotSupportedException($"training through {GgmlTypeInfo.Name(weight.Type)} weights is not supported");
        _weight = weight;
        Adapters = adapters ?? [];
        foreach (var adapter in Adapters)
            if (adapter.InputWidth != weight.Columns || adapter.RowStart < 0 || adapter.RowStart + adapter.Rows > weight.Rows)
                throw new ArgumentException($"adapter {adapter} does not fit a {weight.Rows} × {weight.Columns} projection");
    }

    /// <summary>The adapters added to this projection's output.</summary>
    public IReadOnlyList<LoraAdapter> Adapters { get; }

    public override int InputWidth => _weight.Columns;
    public override int OutputWidth => _weight.Rows;

    public override void Forward(ReadOnlySpan<float> x, int n, Span<float> y, PassContext pass)
    {
        WeightGemm.Forward(x, n, _weight, y, false, pass.Pool);
        foreach (var adapter in Adapters) if (adapter.Enabled) adapter.Forward(x, n, y, OutputWidth, pass.DropoutKey, pass.Scratch, pass.Pool);
    }

    public override void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, Span<float> dx, bool accumulate, PassContext pass)
    {
        WeightGemm.Backward(dy, n, _weight, dx, accumulate, pass.Pool);
        foreach (var adapter in Adapters) if (adapter.Enabled) adapter.Backward(dy, OutputWidth, x, n, dx, pass.DropoutKey, pass.Scratch, pass.Pool);
    }
}
