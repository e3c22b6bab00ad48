using System.Diagnostics;

namespace Dclm.Benchmarks;

/// <summary>Wall time and this process's CPU time (user + system, all threads) over one measured step.</summary>
internal readonly struct CpuClock
{
    private readonly long _startTimestamp;
    private readonly TimeSpan _startCpu;

    private CpuClock(long startTimestamp, TimeSpan startCpu)
    {
        _startTimestamp = startTimestamp;
        _startCpu = startCpu;
    }

    public static CpuClock Start() => new(Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime);

    /// <summary>Seconds of wall time and of CPU time since <see cref="Start"/>.</summary>
    public (double Wall, double Cpu) Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - _startCpu).TotalSeconds;
        return (wall, cpu);
    }
}
