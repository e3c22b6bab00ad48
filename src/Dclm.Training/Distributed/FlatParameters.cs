namespace Dclm.Training.Distributed;

/// <summary>
/// The trainable tensors seen as one vector, in their fixed order: element i of the concatenation of every
/// tensor's values (or gradients). Buckets and optimizer shards are ranges of this vector.
/// </summary>
internal sealed class FlatParameters
{
    private readonly ParameterTensor[] _tensors;
    private readonly long[] _offsets; // (tensors + 1) start of each tensor in the vector, then the total

    public FlatParameters(IReadOnlyList<ParameterTensor> tensors)
    {
        _tensors = tensors.Where(t => t.Trainable).ToArray();
        _offsets = new long[_tensors.Length + 1];
        for (int i = 0; i < _tensors.Length; i++) _offsets[i + 1] = _offsets[i] + _tensors[i].Length;
    }

    /// <summary>Values in the vector.</summary>
    public long Length => _offsets[^1];

    /// <summary>The pieces of [start, start + length): (tensor index, offset in it, count), in order.</summary>
    public IEnumerable<(int Tensor, int Offset, int Count)> Pieces(long start, long length)
    {
        long end = start + length;
        int i = Array.BinarySearch(_offsets, start);
        if (i < 0) i = ~i - 1;
        for (; i < _tensors.Length && _offsets[i] < end; i++)
        {
            long from = Math.Max(start, _offsets[i]), to = Math.Min(end, _offsets[i + 1]);
            if (to > from) yield return (i, (int)(from - _offsets[i]), (int)(to - from));
        }
    }

    /// <summary>Copies [start, start + destination.Length) of the gradients (or values) into <paramref name="destination"/>.</summary>
    public void Read(long start, Span<float> destination, bool gradients) =>
        Read(_tensors.Select(t => gradients ? t.Gradient! : t.Values).ToArray(), start, destination);

    /// <summary>Copies <paramref name="source"/> over [start, start + source.Length) of the gradients (or values).</summary>
    public void Write(long start, ReadOnlySpan<float> source, bool gradients) =>
        Write(_tensors.Select(t => gradients ? t.Gradient! : t.Values).ToArray(), start, source);

    /// <summary>Copies [start, start + destination.Length) of arrays laid out like the tensors (one per tensor) into <paramref name="destination"/>.</summary>
    public void Read(float[][] perTensor, long start, Span<float> destination)
    {
        int written = 0;
        foreach (var (tensor, offset, count) in Pieces(start, destination.Length))
        {
            perTensor[tensor].AsSpan(offset, count).CopyTo(destination[written..]);
            written += count;
        }
    }

    /// <summary>Copies <paramref name="source"/> over [start, start + source.Length) of arrays laid out like the tensors.</summary>
    public void Write(float[][] perTensor, long start, ReadOnlySpan<float> source)
    {
        int read = 0;
        foreach (var (tensor, offset, count) in Pieces(start, source.Length))
        {
            source.Slice(read, count).CopyTo(perTensor[tensor].AsSpan(offset, count));
            read += count;
        }
    }
}
