namespace Dclm.Inference.Engine;

/// <summary>
/// Slots of finished sequences kept with their token lists, least recently used first out. A new
/// prompt that starts with the same tokens (the next turn of a chat) shares the matching KV blocks
/// instead of recomputing them, when it runs with the same LoRA adapter (keys and values depend on it). Holds no
/// tensors: evicting an entry hands its slot back to the caller.
/// </summary>
internal sealed class PrefixCache(int capacity)
{
    private sealed class Entry(int slot, int[] tokens, int adapter)
    {
        public int Slot { get; } = slot;
        public int[] Tokens { get; } = tokens;
        public int Adapter { get; } = adapter;
        public long LastUsed { get; set; }
    }

    private readonly List<Entry> _entries = [];
    private long _clock;

    public int Capacity => capacity;
    public int Count => _entries.Count;

    /// <summary>
    /// The entry sharing the longest prefix with <paramref name="prompt"/>, capped one short of the
    /// prompt so its last token still runs and gives logits, among entries computed with <paramref name="adapter"/> whose
    /// slot can resume at that length (<paramref name="canResume"/>(slot, length); null = any); null when nothing matches.
    /// </summary>
    public PrefixMatch? Find(IReadOnlyList<int> prompt, int adapter = 0, Func<int, int, bool>? canResume = null)
    {
        Entry? best = null;
        int bestLength = 0, limit = prompt.Count - 1;
        foreach (var entry in _entries)
        {
            if (entry.Adapter != adapter) continue;
            int length = 0, most = Math.Min(limit, entry.Tokens.Length);
            while (length < most && entry.Tokens[length] == prompt[length]) length++;
            if (length > bestLength && (canResume is null || canResume(entry.Slot, length))) { best = entry; bestLength = length; }
        }
        if (best is null) return null;
        best.LastUsed = ++_clock;
        return new PrefixMatch(best.Slot, bestLength);
    }

    /// <summary>
    /// Keeps <paramref name="slot"/> holding <paramref name="tokens"/> as computed with <paramref name="adapter"/>. Entries
    /// of the same adapter that are a prefix of it are now redundant and, with the least recently used entry when full,
    /// are returned for freeing.
    /// </summary>
    public List<int> Add(int slot, int[] tokens, int adapter = 0)
    {
        var released = new List<int>();
        if (capacity == 0 || tokens.Length == 0) { released.Add(slot); return released; }
        for (int i = _entries.Count - 1; i >= 0; i--)
        {
            var entry = _entries[i];
            if (entry.Adapter == adapter && entry.Tokens.Length <= tokens.Length && entry.Tokens.AsSpan().SequenceEqual(tokens.AsSpan(0, entry.Tokens.Length)))
            {
                released.Add(entry.Slot);
                _entries.RemoveAt(i);
            }
        }
        if (_entries.Count >= capacity && TryEvict(out int evicted)) released.Add(evicted);
        _entries.Add(new Entry(slot, tokens, adapter) { LastUsed = ++_clock });
        return released;
    }

    /// <summary>Drops the least recently used entry and gives back its slot.</summary>
    public bool TryEvict(out int slot)
    {
        slot = -1;
        if (_entries.Count == 0) return false;
        var oldest = _entries.MinBy(e => e.LastUsed)!;
        _entries.Remove(oldest);
        slot = oldest.Slot;
        return true;
    }
}
