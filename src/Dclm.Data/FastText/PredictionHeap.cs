namespace Dclm.Data.FastText;

/// <summary>
/// fastText's prediction heap: a <c>std::vector</c> of (score, label) kept with <c>std::push_heap</c>,
/// <c>std::pop_heap</c> and finally <c>std::sort_heap</c> under "greater score first", reproduced step by step as
/// LLVM's libc++ (the library of fastText's WebAssembly build) performs them, so labels with exactly equal scores
/// (common with the one-vs-all sigmoid table) come out in fastText's order.
/// </summary>
internal sealed class PredictionHeap
{
    private readonly List<(float Score, int Label)> _items = new();

    public int Count => _items.Count;

    /// <summary>The worst kept score (the heap's front).</summary>
    public float Worst => _items[0].Score;

    public (float Score, int Label) this[int index] => _items[index];

    public void Clear() => _items.Clear();

    // comp(a, b) = a.first > b.first, so the heap's front holds the smallest score.
    private static bool Before((float Score, int Label) a, (float Score, int Label) b) => a.Score > b.Score;

    /// <summary>push_back then push_heap; then, when over <paramref name="k"/>, pop_heap and pop_back.</summary>
    public void Add(float score, int label, int k)
    {
        _items.Add((score, label));
        SiftUp(_items.Count);
        if (_items.Count > k)
        {
            PopHeap(_items.Count);
            _items.RemoveAt(_items.Count - 1);
        }
    }

    /// <summary>std::sort_heap: best first.</summary>
    public void Sort()
    {
        for (int n = _items.Count; n > 1; n--) PopHeap(n);
    }

    /// <summary>libc++ <c>__sift_up</c> of the last of the first <paramref name="length"/> items.</summary>
    private void SiftUp(int length)
    {
        if (length <= 1) return;
        int last = length - 1;
        int parentLength = (length - 2) / 2;
        int parent = parentLength;
        if (!Before(_items[parent], _items[last])) return;
        var moving = _items[last];
        do
        {
            _items[last] = _items[parent];
            last = parent;
            if (parentLength == 0) break;
            parentLength = (parentLength - 1) / 2;
            parent = parentLength;
        }
        while (Before(_items[parent], moving));
        _items[last] = moving;
    }

    /// <summary>libc++ <c>__pop_heap</c> (Floyd's sift-down into a hole, then sift-up) over the first <paramref name="length"/> items.</summary>
    private void PopHeap(int length)
    {
        if (length <= 1) return;
        var top = _items[0];
        int hole = FloydSiftDown(length);
        int last = length - 1;
        if (hole == last)
        {
            _items[hole] = top;
            return;
        }
        _items[hole] = _items[last];
        _items[last] = top;
        SiftUp(hole + 1);
    }

    private int FloydSiftDown(int length)
    {
        int hole = 0, child = 0;
        while (true)
        {
            int childIndex = hole + child + 1;
            child = 2 * child + 1;
            if (child + 1 < length && Before(_items[childIndex], _items[childIndex + 1]))
            {
                childIndex++;
                child++;
            }
            _items[hole] = _items[childIndex];
            hole = childIndex;
            if (child > (length - 2) / 2) return hole;
        }
    }
}
