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
internal static class Terminal
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
    /// checkpoint); a second Ctrl+C ends the process at once.
    /// </summary>
    public static IDisposable Interrupts(out CancellationToken token)
    {
        var source = new CancellationTokenSource();
        token = source.Token;
        void OnSignal(PosixSignalContext context)
        {
            if (source.IsCancellationRequested) return; // the second one takes the default action: exit
            context.Cancel = true;
            source.Cancel();
        }
        return new Registrations(source, PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
    }

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
