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
}
