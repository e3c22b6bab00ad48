using System.Runtime.InteropServices;
using System.Text;

namespace Dclm.Cli;

/// <summary>
/// How dclm uses the terminal. .NET's console, on its first write or Ctrl+C registration, switches the terminal to
/// keypad-transmit mode by writing <c>ESC[?1h ESC=</c> to it, which lands in logs when the "terminal" is a pty that
/// records (mpirun, script, CI runners). dclm writes its standard streams straight to file descriptors 1 and 2 and
/// catches SIGINT/SIGTERM itself, so the console is never initialized and nothing but dclm's own text is written;
/// only <c>dclm chat</c>'s line editing, reading a real terminal, initializes it.
/// </summary>
internal static partial class Terminal
{
    /// <summary>Replaces Console.Out and Console.Error by plain UTF-8 writers on file descriptors 1 and 2 (Unix).</summary>
    public static void UsePlainStandardStreams()
    {
        if (OperatingSystem.IsWindows()) return;
        Console.SetOut(Plain(1));
        Console.SetError(Plain(2));
    }

    private static TextWriter Plain(int descriptor) => TextWriter.Synchronized(
        new StreamWriter(new DescriptorStream(descriptor), new UTF8Encoding(false), 4096) { AutoFlush = true });

    /// <summary>
    /// A token cancelled by the first Ctrl+C (SIGINT) or SIGTERM, so long work can stop cleanly (training saves a
    /// checkpoint; a forward pass stops between layers), with one line on standard error saying so; a second one ends the
    /// process at once, with one more line and exit code 128 + the signal's number (130 for Ctrl+C), whatever the command
    /// is doing.
    /// </summary>
    public static IDisposable Interrupts(out CancellationToken token)
    {
        var source = new CancellationTokenSource();
        token = source.Token;
        int received = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            // The runtime runs each SIGINT/SIGTERM handler on a thread of its own, so a second signal arrives here even
            // while the first one's cancellation callbacks are still running.
            if (Interlocked.Increment(ref received) > 1) { ExitNow(context.Signal == PosixSignal.SIGTERM ? 143 : 130); return; }
            WriteLine("interrupted: ending cleanly (Ctrl+C again exits at once)");
            source.Cancel();
        }
        return new Registrations(source, PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
    }

    /// <summary>
    /// Ends the process now: no cleanup runs (what the first signal started is abandoned; training's last saved checkpoint
    /// is what a rerun resumes from). Standard output and error write through, so no printed line is lost.
    /// </summary>
    private static void ExitNow(int code)
    {
        WriteLine("interrupted again: exiting now, without finishing or saving");
        if (OperatingSystem.IsWindows()) Environment.Exit(code);
        // _exit, not Environment.Exit: ProcessExit handlers (the web host's among them) may wait for the work still running.
        ExitProcess(code);
    }

    /// <summary>
    /// One line on standard error from a signal handler: straight to file descriptor 2, past Console.Error's lock, which a
    /// thread blocked on a full pipe may hold.
    /// </summary>
    private static void WriteLine(string line)
    {
        if (OperatingSystem.IsWindows()) { Console.Error.WriteLine(line); return; }
        try { new DescriptorStream(2).Write(Encoding.UTF8.GetBytes(line + "\n")); }
        catch (IOException) { } // standard error is gone; carry on regardless
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void ExitProcess(int status);

    private sealed class Registrations(CancellationTokenSource source, params IDisposable[] signals) : IDisposable
    {
        public void Dispose()
        {
            foreach (var signal in signals) signal.Dispose();
            source.Dispose();
        }
    }
}

/// <summary>
/// A progress count redrawn in place on standard error when it is a terminal. When standard error is a pipe or a
/// file nothing is written (a log gets the command's result lines, not dozens of carriage-return updates).
/// </summary>
internal sealed class ProgressLine
{
    private readonly bool _shown = !Console.IsErrorRedirected;
    private bool _drawn;

    /// <summary>Redraws the line with <paramref name="text"/>.</summary>
    public void Show(string text)
    {
        if (!_shown) return;
        Console.Error.Write($"\r{text}\u001b[K");
        _drawn = true;
    }

    /// <summary>Ends the line, if one was drawn, so what follows starts on its own.</summary>
    public void Finish()
    {
        if (_drawn) Console.Error.WriteLine();
        _drawn = false;
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool, so a report could land after the work's last line).</summary>
internal sealed class DirectProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc />
    public void Report(T value) => report(value);
}
