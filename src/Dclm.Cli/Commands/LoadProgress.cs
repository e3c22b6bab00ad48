namespace Dclm.Cli.Commands;

/// <summary>
/// "dclm: reading weights into memory 42%" on one terminal line while a model's weights are copied in, then
/// erased; nothing when stderr is not a terminal.
/// </summary>
internal sealed class LoadProgress : IProgress<double>
{
    private int _shown = -1;

    /// <summary>A reporter, or null when stderr is redirected (a pipe or file gets only the final line).</summary>
    public static LoadProgress? ForTerminal() => Console.IsErrorRedirected ? null : new LoadProgress();

    public void Report(double fraction)
    {
        int percent = (int)(fraction * 100);
        if (percent == _shown) return;
        _shown = percent;
        Console.Error.Write($"\rdclm: reading weights into memory {percent,3}%");
    }

    /// <summary>Erases the line if anything was shown.</summary>
    public void Clear()
    {
        if (_shown >= 0) Console.Error.Write("\r" + new string(' ', 44) + "\r");
    }
}
