using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Dclm.Eval.Code;

/// <summary>
/// Runs untrusted Python in a child process: a fresh temporary working directory deleted afterwards, an
/// empty environment (PATH, HOME and TMPDIR point at safe values), rlimits on memory, CPU time, file size
/// and process count, a wall-clock limit that kills the whole process tree, and — where <c>unshare</c>
/// works — new network and pid namespaces, so there is no network and no process outlives the run.
/// Running as root, the program drops to <c>nobody</c> so file permissions protect the rest of the disk.
/// Python-level guards (socket, fork, writes outside the directory) back these up but can be bypassed
/// by determined code; see docs/evaluation.md.
/// </summary>
public sealed class PythonSandbox
{
    // The least time the isolation probe is given, whatever the caller's limit.
    private static readonly TimeSpan ProbeTimeLimit = TimeSpan.FromSeconds(30);
    private static readonly string Preamble = ReadPreamble();
    private readonly SandboxOptions _options;
    private readonly string _python;
    private readonly string? _unshare;

    private PythonSandbox(SandboxOptions options, string python, string? unshare, SandboxIsolation isolation)
    {
        _options = options;
        _python = python;
        _unshare = unshare;
        Isolation = isolation;
    }

    /// <summary>The protections in force.</summary>
    public SandboxIsolation Isolation { get; }

    /// <summary>
    /// Finds python3 and probes which isolation this machine allows (namespaces, dropping to nobody).
    /// Throws <see cref="FileNotFoundException"/> without python3 and <see cref="NotSupportedException"/> when nothing runs.
    /// </summary>
    public static PythonSandbox Create(SandboxOptions? options = null)
    {
        options = (options ?? new SandboxOptions()).Validate();
        string python = options.PythonPath ?? FindPython();
        string? unshare = File.Exists("/usr/bin/unshare") ? "/usr/bin/unshare" : null;
        bool root = Environment.UserName == "root" || geteuid() == 0;
        var candidates = new List<SandboxIsolation>();
        if (unshare is not null)
        {
            candidates.Add(root ? new SandboxIsolation(true, true, DropsToNobody: true, UserNamespace: false) : new SandboxIsolation(true, true, false, UserNamespace: true));
        }
        if (root) candidates.Add(new SandboxIsolation(false, false, DropsToNobody: true, UserNamespace: false));
        candidates.Add(new SandboxIsolation(false, false, false, false));
        // The probe asks whether an isolation level runs Python at all, not whether it runs fast: under the
        // caller's (possibly short) limit a loaded machine would time it out and fall back to weaker isolation.
        var probeOptions = options.TimeLimit < ProbeTimeLimit ? options with { TimeLimit = ProbeTimeLimit } : options;
        foreach (var isolation in candidates)
        {
            string? launcher = isolation.PidNamespace ? unshare : null;
            // The probe imports what HumanEval tests use; a drop to nobody fails it when the interpreter is unreadable.
            var probe = new PythonSandbox(probeOptions, python, launcher, isolation)
                .Run("import collections, hashlib, heapq, itertools, json, math, re, string\nprint('ok')");
            if (probe.Outcome == SandboxOutcome.Passed && probe.Output.Trim() == "ok") return new PythonSandbox(options, python, launcher, isolation);
        }
        throw new NotSupportedException($"cannot run {python} in a sandbox on this machine: a probe program failed under every isolation level");
    }

    /// <summary>Runs <paramref name="program"/> to completion, failure or the time limit.</summary>
    public SandboxResult Run(string program, CancellationToken cancellation = default) => RunAsync(program, cancellation).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="program"/> to completion, failure or the time limit, without blocking a thread while it runs.</summary>
    public async Task<SandboxResult> RunAsync(string program, CancellationToken cancellation = default)
    {
        var directory = Directory.CreateTempSubdirectory("dclm-sandbox-");
        var clock = Stopwatch.StartNew();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "program.py"), program, new UTF8Encoding(false), cancellation);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "sandbox.py"), Preamble, new UTF8Encoding(false), cancellation);
            using var process = new Process { StartInfo = StartInfo(directory.FullName) };
            process.Start();
            process.StandardInput.Close();
            var output = ReadCapped(process.StandardOutput, _options.MaxOutputBytes);
            var error = ReadCapped(process.StandardError, _options.MaxOutputBytes);
            bool exited = await WaitForExit(process, _options.TimeLimit, cancellation);
            if (!exited) Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
            // No process outlives the run: what the program left running in its process group goes now (a pid namespace
            // has already torn itself down), so its pipes close as those processes end.
            if (exited && _unshare is null) kill(-process.Id, 9);
            var (stdout, stderr) = await FinishOutputs(process, output, error, cancellation);
            var outcome = !exited ? SandboxOutcome.TimedOut : process.ExitCode == 0 ? SandboxOutcome.Passed : SandboxOutcome.Failed;
            return new SandboxResult(outcome, exited ? process.ExitCode : -1, stdout, stderr, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            try { directory.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private ProcessStartInfo StartInfo(string directory)
    {
        var start = new ProcessStartInfo
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        start.Environment["HOME"] = directory;
        start.Environment["TMPDIR"] = directory;
        start.Environment["LANG"] = "C.UTF-8";
        start.Environment["PYTHONHASHSEED"] = "0";
        if (_unshare is not null)
        {
            start.FileName = _unshare;
            foreach (var flag in new[] { "--net", "--pid", "--fork", "--kill-child" }) start.ArgumentList.Add(flag);
            if (Isolation.UserNamespace) start.ArgumentList.Add("--map-root-user");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(_python);
        }
        else
        {
            start.FileName = _python;
        }
        // -I: ignore PYTHON* variables and the user's site-packages; -B: write no bytecode.
        start.ArgumentList.Add("-I");
        start.ArgumentList.Add("-B");
        start.ArgumentList.Add("sandbox.py");
        start.ArgumentList.Add(_options.MemoryLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(((int)Math.Ceiling(_options.TimeLimit.TotalSeconds) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(Isolation.DropsToNobody ? "1" : "0");
        return start;
    }

    private static async Task<bool> WaitForExit(Process process, TimeSpan limit, CancellationToken cancellation)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(limit);
            await process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            if (cancellation.IsCancellationRequested) { Kill(process); throw; }
            return false;
        }
    }

    /// <summary>Kills the process group the preamble made (escapes the tree walk) and the tree itself.</summary>
    private static void Kill(Process process)
    {
        try
        {
            foreach (var pid in ChildPids(process.Id).Append(process.Id)) kill(-pid, 9);
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    private static IEnumerable<int> ChildPids(int pid)
    {
        string path = $"/proc/{pid}/task/{pid}/children";
        if (!File.Exists(path)) return [];
        try { return File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(); }
        catch (IOException) { return []; }
    }

    private static async Task<(StringBuilder Text, bool Truncated)> ReadCapped(StreamReader reader, int limit)
    {
        var text = new StringBuilder();
        var buffer = new char[4096];
        bool truncated = false;
        int read;
        // Keep reading past the cap (and drop it) so a chatty program never blocks on a full pipe.
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            int keep = Math.Min(read, limit - text.Length);
            if (keep > 0) text.Append(buffer, 0, keep);
            if (keep < read) truncated = true;
        }
        return (text, truncated);
    }

    /// <summary>
    /// The program's output, read until both pipes close: that happens as the last process holding them ends, which the
    /// kills above make the program's own end. A process that escaped them (a new session outside any pid namespace; the
    /// process limit leaves none in practice) could hold a pipe for ever, so the reads get one more time limit (at least
    /// <see cref="OutputGrace"/>, for the kernel to tear killed processes down), and then what arrived is returned with a
    /// note. Cancelling <paramref name="cancellation"/> ends the wait at once.
    /// </summary>
    private async Task<(string Output, string Error)> FinishOutputs(Process process, Task<(StringBuilder Text, bool Truncated)> output,
        Task<(StringBuilder Text, bool Truncated)> error, CancellationToken cancellation)
    {
        var both = Task.WhenAll(output, error);
        try { await both.WaitAsync(_options.TimeLimit > OutputGrace ? _options.TimeLimit : OutputGrace, cancellation); }
        catch (TimeoutException) { }
        catch (OperationCanceledException) { Kill(process); throw; }
        return (Text(output), Text(error));
    }

    // The least time killed processes' pipes are given to close, whatever the caller's limit.
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(1);

    private static string Text(Task<(StringBuilder Text, bool Truncated)> reading)
    {
        if (reading.IsFaulted) reading.GetAwaiter().GetResult(); // the read's own error, as awaiting it would throw
        if (!reading.IsCompletedSuccessfully) return "(output still open after the process ended)";
        var (text, truncated) = reading.Result;
        return truncated ? text + "\n(output truncated)" : text.ToString();
    }

    private static string FindPython()
    {
        if (File.Exists("/usr/bin/python3")) return "/usr/bin/python3";
        // A pyenv-style shim needs the caller's environment, so ask it once for the real interpreter.
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("import sys; print(sys.executable)");
            using var process = Process.Start(start)!;
            string path = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode == 0 && File.Exists(path)) return path;
        }
        catch (System.ComponentModel.Win32Exception) { }
        throw new FileNotFoundException("python3 was not found; code tasks need it (install python3)");
    }

    private static string ReadPreamble()
    {
        using var stream = typeof(PythonSandbox).Assembly.GetManifestResourceStream("Dclm.Eval.sandbox_preamble.py")
            ?? throw new InvalidOperationException("the sandbox preamble is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc")]
    private static extern uint geteuid();
}
