using System.Diagnostics;

namespace Dclm.Inference.Engine;

/// <summary>Tokens per second over the steps that ended within a sliding window of wall time.</summary>
internal sealed class ThroughputWindow(TimeSpan window)
{
    private readonly Queue<(long Start, long End, int Tokens)> _steps = new();
    private readonly long _windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
    private long _tokens;

    public void Add(long start, long end, int tokens)
    {
        _steps.Enqueue((start, end, tokens));
        _tokens += tokens;
        Trim(end);
    }

    public double Rate(long now)
    {
        Trim(now);
        if (_steps.Count == 0) return 0;
        double seconds = (double)(now - _steps.Peek().Start) / Stopwatch.Frequency;
        return seconds <= 0 ? 0 : _tokens / seconds;
    }

    private void Trim(long now)
    {
        while (_steps.Count > 0 && now - _steps.Peek().End > _windowTicks) _tokens -= _steps.Dequeue().Tokens;
    }
}
