using System.Diagnostics;

namespace Dclm.Inference.Engine;

/// <summary>
/// Tokens per second over the steps that ended within a sliding window of wall time, or over the last
/// <c>capacity</c> steps when more than that ended within it. A fixed ring: adding a step allocates nothing.
/// </summary>
internal sealed class ThroughputWindow(TimeSpan window, int capacity = 1024)
{
    private readonly (long Start, long End, int Tokens)[] _steps = new (long, long, int)[capacity];
    private readonly long _windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
    private int _first, _count;
    private long _tokens;

    public void Add(long start, long end, int tokens)
    {
        if (_count == _steps.Length) Drop();
        _steps[(_first + _count++) % _steps.Length] = (start, end, tokens);
        _tokens += tokens;
        Trim(end);
    }

    public double Rate(long now)
    {
        Trim(now);
        if (_count == 0) return 0;
        double seconds = (double)(now - _steps[_first].Start) / Stopwatch.Frequency;
        return seconds <= 0 ? 0 : _tokens / seconds;
    }

    private void Trim(long now)
    {
        while (_count > 0 && now - _steps[_first].End > _windowTicks) Drop();
    }

    private void Drop()
    {
        _tokens -= _steps[_first].Tokens;
        _first = (_first + 1) % _steps.Length;
        _count--;
    }
}
