namespace Dclm.Data.FastText;

/// <summary>
/// Reusable per-thread buffers for one line: the input-matrix rows of its features (<see cref="Rows"/>), the
/// 32-bit hashes of its words for word n-grams, and byte scratch for "&lt;word&gt;". One instance serves any
/// number of lines, so predicting allocates nothing once the buffers have grown.
/// </summary>
public sealed class FastTextFeatures
{
    private int[] _rows = new int[256];
    private byte[] _scratch = new byte[256];

    /// <summary>Feature rows collected so far.</summary>
    public int Count { get; private set; }

    /// <summary>The collected rows.</summary>
    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, Count);

    internal List<int> WordHashes { get; } = new();

    /// <summary>Forgets the previous line.</summary>
    public void Clear()
    {
        Count = 0;
        WordHashes.Clear();
    }

    /// <summary>Appends one row.</summary>
    public void Add(int row)
    {
        if (Count == _rows.Length) Array.Resize(ref _rows, _rows.Length * 2);
        _rows[Count++] = row;
    }

    internal Span<byte> Scratch(int length)
    {
        if (_scratch.Length < length) _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        return _scratch;
    }
}
