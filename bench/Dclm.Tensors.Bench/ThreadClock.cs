using System.Runtime.InteropServices;

namespace Dclm.Tensors.Bench;

/// <summary>
/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), so single-thread kernel timings stay
/// meaningful on a machine shared with other work: time spent descheduled is not counted.
/// </summary>
internal static partial class ThreadClock
{
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>Milliseconds of CPU this thread has used.</summary>
    public static double Milliseconds()
    {
        ClockGetTime(3, out TimeSpec time);
        return time.Seconds * 1e3 + time.Nanoseconds / 1e6;
    }

    /// <summary>
    /// The least thread CPU per call of <paramref name="call"/> over <paramref name="rounds"/> rounds, each calling it
    /// until <paramref name="wallMilliseconds"/> of wall time have passed.
    /// </summary>
    public static double BestPerCall(Action call, int rounds, int wallMilliseconds)
    {
        double best = double.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            double start = Milliseconds();
            int calls = 0;
            while (watch.ElapsedMilliseconds < wallMilliseconds) { call(); calls++; }
            best = Math.Min(best, (Milliseconds() - start) / calls);
        }
        return best;
    }

    /// <summary>The least thread CPU of one call of <paramref name="action"/> in <paramref name="rounds"/> timed calls after a warm-up call.</summary>
    public static double Best(Action action, int rounds)
    {
        action();
        double best = double.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            double start = Milliseconds();
            action();
            best = Math.Min(best, Milliseconds() - start);
        }
        return best;
    }
}
