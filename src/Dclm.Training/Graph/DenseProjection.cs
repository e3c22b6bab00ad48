using Dclm.Tensors.Compute;
using Dclm.Training.Kernels;

namespace Dclm.Training.Graph;

/// <summary>Counts changes to trainable weights, so cached copies (transposes) know when to rebuild.</summary>
public sealed class ParameterVersion
{
    /// <summary>Bumped after every optimizer step or load.</summary>
    public long Value { get; private set; }
    /// <summary>Marks the weights changed.</summary>
    public void Bump() => Value++;
}

/// <summary>
/// A trainable fp32 projection: rows [rowStart, rowStart + rows) of a parameter tensor (all of it, or q/k/v of
/// open_lm's fused in_proj). Forward y = x·Wᵀ through a cached transpose; backward dx = dy·W and dW += dyᵀ·x.
/// </summary>
public sealed class DenseProjection : Projection
{
    private readonly ParameterTensor _weight;
    private readonly int _rowStart, _rows;
    private readonly ParameterVersion _version;
    private float[]? _transposed;
    private long _transposedVersion = -1;

    public DenseProjection(ParameterTensor weight, ParameterVersion version) : this(weight, 0, weight.Rows, version) { }

    public DenseProjection(ParameterTensor weight, int rowStart, int rows, ParameterVersion version)
    {
        if (rowStart < 0 || rows <= 0 || rowStart + rows > weight.Rows) throw new ArgumentOutOfRangeException(nameof(rowStart), $"rows [{rowStart}, {rowStart + rows}) outside {weight}");
        _weight = weight;
        _rowStart = rowStart;
        _rows = rows;
        _version = version;
    }

    public override int InputWidth => _weight.Columns;
    public override int OutputWidth => _rows;

    private ReadOnlySpan<float> Weight => _weight.Values.AsSpan(_rowStart * InputWidth, _rows * InputWidth);

    public override void Forward(ReadOnlySpan<float> x, int n, Span<float> y, PassContext pass)
    {
        Gemm.Multiply(x, InputWidth, 1, Transposed(pass.Pool), y, n, InputWidth, _rows, false, pass.Pool);
    }

    public override void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, Span<float> dx, bool accumulate, PassContext pass)
    {
        int input = InputWidth;
        Gemm.Multiply(dy, _rows, 1, Weight, dx, n, _rows, input, accumulate, pass.Pool);
        if (_weight.Gradient is { } gradient)
            Gemm.Multiply(dy, 1, _rows, x, gradient.AsSpan(_rowStart * input, _rows * input), _rows, n, input, true, pass.Pool);
    }

    /// <summary>Wᵀ (in, rows), rebuilt when the parameters have changed since the last build.</summary>
    private float[] Transposed(ComputePool pool)
    {
        if (_transposed is not null && _transposedVersion == _version.Value) return _transposed;
        _transposed ??= new float[_rows * InputWidth];
        Transpose.Rows(Weight, _rows, InputWidth, _transposed, pool);
        _transposedVersion = _version.Value;
        return _transposed;
    }
}
