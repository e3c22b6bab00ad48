namespace Dclm.Inference;

/// <summary>
/// Watches streamed text for stop strings. Text that might be the start of a stop string is held
/// back until it is known not to be, so a caller never shows text that a stop later cuts off.
/// <see cref="Release"/> is the rule, over text the caller holds (no allocation); <see cref="Push"/> keeps the
/// held-back text itself, for callers that work in strings.
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stopStrings)
{
    private readonly string[] _stops = stopStrings.Where(s => s.Length > 0).ToArray();
    private string _pending = "";

    /// <summary>True once a stop string has been seen (by <see cref="Push"/>); further text is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// How many leading characters of <paramref name="pending"/> (text not shown yet) are safe to show: up to the
    /// earliest stop string when one occurs (<paramref name="stopped"/> is then true and the rest is cut), else all
    /// but the longest tail that could still grow into a stop string.
    /// </summary>
    public int Release(ReadOnlySpan<char> pending, out bool stopped)
    {
        int cut = -1;
        foreach (var stop in _stops)
        {
            int at = pending.IndexOf(stop.AsSpan(), StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        stopped = cut >= 0;
        if (stopped) return cut;
        int hold = 0;
        foreach (var stop in _stops)
            for (int length = Math.Min(stop.Length - 1, pending.Length); length > hold; length--)
                if (pending[^length..].SequenceEqual(stop.AsSpan(0, length))) { hold = length; break; }
        return pending.Length - hold;
    }

    /// <summary>Adds newly decoded text and returns the part that is safe to show now.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        _pending += text;
        int ready = Release(_pending, out bool stopped);
        string shown = _pending[..ready];
        Stopped = stopped;
        _pending = stopped ? "" : _pending[ready..];
        return shown;
    }

    /// <summary>Returns whatever is still held back, at the end of generation.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }
}
