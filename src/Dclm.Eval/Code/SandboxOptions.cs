namespace Dclm.Eval.Code;

/// <summary>Limits for one sandboxed program.</summary>
public sealed record SandboxOptions
{
    /// <summary>Wall-clock limit; the whole process tree is killed when it passes.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Address-space limit (RLIMIT_AS) in bytes.</summary>
    public long MemoryLimitBytes { get; init; } = 1L << 30;
    /// <summary>Most bytes of stdout and of stderr kept for the report.</summary>
    public int MaxOutputBytes { get; init; } = 16 << 10;
    /// <summary>python3 to run; null picks /usr/bin/python3, else the python3 on PATH.</summary>
    public string? PythonPath { get; init; }

    /// <summary>Checks ranges and names the offending field.</summary>
    public SandboxOptions Validate()
    {
        if (TimeLimit <= TimeSpan.Zero || TimeLimit > TimeSpan.FromHours(1)) throw new ArgumentException($"sandbox time limit {TimeLimit} must be in (0, 1 h]");
        if (MemoryLimitBytes < 64L << 20) throw new ArgumentException($"sandbox memory limit {MemoryLimitBytes} bytes is below 64 MiB; python cannot start");
        if (MaxOutputBytes < 0) throw new ArgumentException("sandbox output limit must be 0 or positive");
        return this;
    }
}

/// <summary>How a sandboxed program ended.</summary>
public enum SandboxOutcome
{
    /// <summary>Exit code 0: every test passed.</summary>
    Passed,
    /// <summary>A non-zero exit: an assertion, an exception, a refused operation, a limit hit.</summary>
    Failed,
    /// <summary>Killed at the wall-clock limit.</summary>
    TimedOut,
}

/// <summary>The result of one sandboxed run.</summary>
public sealed record SandboxResult(SandboxOutcome Outcome, int ExitCode, string Output, string Error, double Seconds);

/// <summary>Which protections a sandbox could turn on on this machine.</summary>
public sealed record SandboxIsolation(bool NetworkNamespace, bool PidNamespace, bool DropsToNobody, bool UserNamespace)
{
    /// <summary>One line for reports.</summary>
    public string Description =>
        (NetworkNamespace ? "network namespace (no network)" : "no network namespace: only Python-level socket blocking") + "; " +
        (PidNamespace ? "pid namespace (whole tree killed)" : "process-group kill") + "; " +
        (DropsToNobody ? "runs as nobody" : UserNamespace ? "user namespace (same user outside)" : "runs as the calling user") +
        "; rlimits (memory, CPU, file size, no new processes); Python-level file-write, process and socket guards";
}
