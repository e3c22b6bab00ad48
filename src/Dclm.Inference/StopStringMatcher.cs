namespace Dclm.Inference;

/// <summary>
/// Watches streamed text for stop strings. Text that might be the start of a stop string is held
/// back until it is known not to be, so a caller never shows text that a stop later cuts off.
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stopStrings)
{
    private readonly string[] _stops = stopStrings.Where(s => s.Length > 0).ToArray();
    private string _pending = "";

    /// <summary>True once a stop string has been seen; further text is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds newly decoded text and returns the part that is safe to show now.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        _pending += text;
        int cut = -1;
        foreach (var stop in _stops)
        {
            int at = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            string before = _pending[..cut];
            _pending = "";
            return before;
        }
        int hold = 0;
        foreach (var stop in _stops)
            for (int length = Math.Min(stop.Length - 1, _pending.Length); length > hold; length--)
                if (_pending.AsSpan(_pending.Length - length).SequenceEqual(stop.AsSpan(0, length))) { hold = length; break; }
        string ready = _pending[..^hold];
        _pending = _pending[^hold..];
        return ready;
    }

    /// <summary>Returns whatever is still held back, at the end of generation.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }
}
