namespace Dclm.Training.Alignment;

/// <summary>
/// The order pairs are visited in: a fresh seeded shuffle every epoch, a pure function of the seed and the number of
/// pairs handed out, so a resumed run continues exactly where it stopped.
/// </summary>
public sealed class PairOrder(int count, ulong seed)
{
    private int[] _order = [];
    private long _epoch = -1;

    /// <summary>Pairs handed out so far (the checkpoint's cursor).</summary>
    public long Samples { get; set; }

    /// <summary>The epoch the next pair belongs to.</summary>
    public long Epoch => Samples / count;

    /// <summary>The index of the next pair.</summary>
    public int Next()
    {
        long epoch = Samples / count;
        if (epoch != _epoch)
        {
            _order = Enumerable.Range(0, count).ToArray();
            var random = new DeterministicRandom(seed ^ (0xA11C0DEUL + (ulong)epoch * 0x9E3779B97F4A7C15UL));
            for (int i = _order.Length - 1; i > 0; i--) { int j = random.NextInt(i + 1); (_order[i], _order[j]) = (_order[j], _order[i]); }
            _epoch = epoch;
        }
        return _order[(int)(Samples++ % count)];
    }

    /// <summary>
    /// Splits <paramref name="items"/> into training and a seeded held-out fraction (none below 10 items or at 0).
    /// </summary>
    public static (List<T> Training, List<T> Held) Split<T>(IReadOnlyList<T> items, double fraction, ulong seed)
    {
        int held = items.Count < 10 || fraction == 0 ? 0 : Math.Max(1, (int)Math.Round(items.Count * fraction));
        if (held == 0) return (items.ToList(), []);
        var order = Enumerable.Range(0, items.Count).ToArray();
        var random = new DeterministicRandom(seed ^ 0x5E1EC7);
        for (int i = order.Length - 1; i > 0; i--) { int j = random.NextInt(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        var chosen = order.Take(held).ToHashSet();
        return (items.Where((_, i) => !chosen.Contains(i)).ToList(), items.Where((_, i) => chosen.Contains(i)).ToList());
    }
}
