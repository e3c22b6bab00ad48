using Dclm.Tensors.Ops;

namespace Dclm.Training.Kernels;

/// <summary>
/// Rotary embedding over rows of heads, and its backward, which rotates by −θ: for a' = a·cos − b·sin,
/// b' = a·sin + b·cos, the gradients are da = da'·cos + db'·sin and db = −da'·sin + db'·cos. Pairs are
/// (i, i + headDim/2) for half-split RoPE (open_lm, GPT-NeoX, Hugging Face) or (2i, 2i + 1) for adjacent
/// pairs (llama.cpp's llama files).
/// </summary>
public sealed class RopeKernel
{
    private readonly float[] _cos, _sin;
    private readonly int _half;
    private readonly RopeStyle _style;

    /// <summary>Tables for positions [0, <paramref name="positions"/>) with θ^(−2i/headDim) frequencies, computed exactly as the inference model does.</summary>
    public RopeKernel(int headDim, double theta, int positions)
        : this(headDim, RotaryEmbedding.InverseFrequencies(headDim, theta), positions, RopeStyle.HalfSplit) { }

    /// <summary>Tables for positions [0, <paramref name="positions"/>) with the given frequencies and pairing.</summary>
    public RopeKernel(int headDim, ReadOnlySpan<float> inverseFrequencies, int positions, RopeStyle style)
    {
        HeadDim = headDim;
        _half = headDim / 2;
        _style = style;
        if (inverseFrequencies.Length != _half) throw new ArgumentException($"heads of {headDim} need {_half} frequencies");
        _cos = new float[positions * _half];
        _sin = new float[positions * _half];
        for (int p = 0; p < positions; p++)
            RotaryEmbedding.Angles(p, inverseFrequencies, _cos.AsSpan(p * _half, _half), _sin.AsSpan(p * _half, _half));
        Positions = positions;
    }

    /// <summary>Width of one head.</summary>
    public int HeadDim { get; }
    /// <summary>Positions the tables cover.</summary>
    public int Positions { get; }

    /// <summary>Rotates row t of <paramref name="x"/> (rows, width) at position t mod <paramref name="sequence"/>, in place.</summary>
    public void Forward(Span<float> x, int rows, int width, int sequence) => Rotate(x, rows, width, null, sequence, 1f);

    /// <summary>Turns the gradient w.r.t. rotated rows into the gradient w.r.t. the rows before rotation, in place.</summary>
    public void Backward(Span<float> gradient, int rows, int width, int sequence) => Rotate(gradient, rows, width, null, sequence, -1f);

    /// <summary>Rotates row t of <paramref name="x"/> (rows, width) at position <paramref name="positions"/>[t], in place.</summary>
    public void Forward(Span<float> x, int rows, int width, int[] positions) => Rotate(x, rows, width, positions, 0, 1f);

    /// <summary>The backward of <see cref="Forward(Span{float}, int, int, int[])"/>, in place.</summary>
    public void Backward(Span<float> gradient, int rows, int width, int[] positions) => Rotate(gradient, rows, width, positions, 0, -1f);

    private void Rotate(Span<float> x, int rows, int width, int[]? positions, int sequence, float direction)
    {
        if (positions is null && sequence > Positions) throw new ArgumentException($"sequences of {sequence} exceed the {Positions} positions of the RoPE tables");
        if (positions is not null && positions.Length < rows) throw new ArgumentException("one position per row is needed");
        if (width % HeadDim != 0 || x.Length < (long)rows * width) throw new ArgumentException("rows must be whole heads and x must hold them");
        bool halfSplit = _style == RopeStyle.HalfSplit;
        for (int t = 0; t < rows; t++)
        {
            int position = positions is null ? t % sequence : positions[t];
            if ((uint)position >= (uint)Positions) throw new ArgumentException($"position {position} is outside the {Positions} positions of the RoPE tables");
            var cos = _cos.AsSpan(position * _half, _half);
            var sin = _sin.AsSpan(position * _half, _half);
            var row = x.Slice(t * width, width);
            for (int offset = 0; offset < width; offset += HeadDim)
            {
                var head = row.Slice(offset, HeadDim);
                for (int i = 0; i < _half; i++)
                {
                    int ia = halfSplit ? i : 2 * i, ib = halfSplit ? i + _half : 2 * i + 1;
                    float a = head[ia], b = head[ib], s = direction * sin[i];
                    head[ia] = a * cos[i] - b * s;
                    head[ib] = a * s + b * cos[i];
                }
            }
        }
    }
}
