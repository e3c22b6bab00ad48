namespace Dclm.Eval.Prompting;

/// <summary>
/// A set of non-negative integers that iterates in CPython's order: an open-addressing table of 8 slots
/// and up, hash(i) = i, nine linear probes then perturbed jumps, removals leaving dummies, and a resize to
/// 4 × used when the table is 60% full. llm-foundry walks a Python set of shot indices, so this order is
/// the order shots appear in the prompt.
/// </summary>
public sealed class PythonIntSet
{
    private const int LinearProbes = 9, PerturbShift = 5;
    private const long Empty = -1, Dummy = -2;
    private long[] _table = Filled(8);
    private int _fill, _used;

    /// <summary>Number of elements.</summary>
    public int Count => _used;

    private static long[] Filled(int size)
    {
        var table = new long[size];
        Array.Fill(table, Empty);
        return table;
    }

    /// <summary>Whether <paramref name="value"/> is in the set.</summary>
    public bool Contains(int value) => Find(value) >= 0;

    /// <summary>set.add.</summary>
    public void Add(int value)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), "only non-negative integers");
        int mask = _table.Length - 1, freeSlot = -1;
        ulong perturb = (ulong)value;
        int i = value & mask;
        while (true)
        {
            int probes = i + LinearProbes <= mask ? LinearProbes : 0;
            int slot = i;
            do
            {
                long entry = _table[slot];
                if (entry == Empty)
                {
                    if (freeSlot >= 0) { _table[freeSlot] = value; _used++; return; }
                    _table[slot] = value;
                    _fill++; _used++;
                    if ((long)_fill * 5 >= (long)mask * 3) Resize(_used > 50000 ? _used * 2 : _used * 4);
                    return;
                }
                if (entry == value) return;
                if (entry == Dummy && freeSlot < 0) freeSlot = slot;
                slot++;
            } while (probes-- > 0);
            perturb >>= PerturbShift;
            i = (int)(((ulong)i * 5 + 1 + perturb) & (ulong)mask);
        }
    }

    /// <summary>set.remove (a no-op when absent).</summary>
    public void Remove(int value)
    {
        int slot = Find(value);
        if (slot < 0) return;
        _table[slot] = Dummy;
        _used--;
    }

    /// <summary>The elements in the order CPython iterates them.</summary>
    public int[] ToArray() => _table.Where(e => e >= 0).Select(e => (int)e).ToArray();

    private int Find(int value)
    {
        if (value < 0) return -1;
        int mask = _table.Length - 1;
        ulong perturb = (ulong)value;
        int i = value & mask;
        while (true)
        {
            int probes = i + LinearProbes <= mask ? LinearProbes : 0;
            int slot = i;
            do
            {
                if (_table[slot] == Empty) return -1;
                if (_table[slot] == value) return slot;
                slot++;
            } while (probes-- > 0);
            perturb >>= PerturbShift;
            i = (int)(((ulong)i * 5 + 1 + perturb) & (ulong)mask);
        }
    }

    private void Resize(int minimumUsed)
    {
        int size = 8;
        while (size <= minimumUsed) size <<= 1;
        var old = _table;
        _table = Filled(size);
        int mask = size - 1;
        foreach (long entry in old)
        {
            if (entry < 0) continue;
            ulong perturb = (ulong)entry;
            int i = (int)(entry & mask);
            while (true)
            {
                if (_table[i] == Empty) { _table[i] = entry; break; }
                bool placed = false;
                if (i + LinearProbes <= mask)
                {
                    for (int j = 1; j <= LinearProbes; j++)
                        if (_table[i + j] == Empty) { _table[i + j] = entry; placed = true; break; }
                }
                if (placed) break;
                perturb >>= PerturbShift;
                i = (int)(((ulong)i * 5 + 1 + perturb) & (ulong)mask);
            }
        }
        _fill = _used;
    }
}
