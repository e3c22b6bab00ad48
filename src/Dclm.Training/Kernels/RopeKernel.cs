using Dclm.Tensors.Ops;

namespace Dclm.Training.Kernels;

/// <summary>
/// Half-split rotary embedding (open_lm, GPT-NeoX) over rows of heads, and its backward, which rotates
/// by −θ: for a' = a·cos − b·sin, b' = a·sin + b·cos, the gradients are da = da'·cos + db'·sin and
/// db = −da'·sin + db'·cos.
/// </summary>
public sealed class RopeKernel
{
    private readonly float[] _cos, _sin;
    private readonly int _half;

    /// <summary>Tables for positions [0, <paramref name="positions"/>), computed exactly as the inference model does.</summary>
    public RopeKernel(int headDim, double theta, int positions)
    {
        HeadDim = headDim;
        _half = headDim / 2;
        var frequencies = RotaryEmbedding.InverseFrequencies(headDim, theta);
        _cos = new float[positions * _half];
        _sin = new float[positions * _half];
        for (int p = 0; p < positions; p++)
            RotaryEmbedding.Angles(p, frequencies, _cos.AsSpan(p * _half, _half), _sin.AsSpan(p * _half, _half));
        Positions = positions;
    }

    /// <summary>Width of one head.</summary>
    public int HeadDim { get; }
    /// <summary>Positions the tables cover.</summary>
    public int Positions { get; }

    /// <summary>Rotates row t of <paramref name="x"/> (rows, width) at position t mod <paramref name="sequence"/>, in place.</summary>
    public void Forward(Span<float> x, int rows, int width, int sequence) => Rotate(x, rows, width, sequence, 1f);

    /// <summary>Turns the gradient w.r.t. rotated rows into the gradient w.r.t. the rows before rotation, in place.</summary>
    public void Backward(Span<float> gradient, int rows, int width, int sequence) => Rotate(gradient, rows, width, sequence, -1f);

    private void Rotate(Span<float> x, int rows, int width, int sequence, float direction)
    {
        if (sequence > Positions) throw new ArgumentException($"sequences of {sequence} exceed the {Positions} positions of the RoPE tables");
        if (width % HeadDim != 0 || x.Length < (long)rows * width) throw new ArgumentException("rows must be whole heads and x must hold them");
        for (int t = 0; t < rows; t++)
        {
            int position = t % sequence;
            var cos = _cos.AsSpan(position * _half, _half);
            var sin = _sin.AsSpan(position * _half, _half);
            var row = x.Slice(t * width, width);
            for (int offset = 0; offset < width; offset += HeadDim)
            {
                var head = row.Slice(offset, HeadDim);
                for (int i = 0; i < _half; i++)
                {
                    float a = head[i], b = head[i + _half], s = direction * sin[i];
                    head[i] = a * cos[i] - b * s;
                    head[i + _half] = a * s + b * cos[i];
                }
            }
        }
    }
}
