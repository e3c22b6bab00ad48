using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data`: the DCLM-Baseline data pipeline.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Curate web data with the DCLM-Baseline recipe, train the quality classifier, tokenize");
        command.Subcommands.Add(DataCurateCommand.Create());
        command.Subcommands.Add(DataTrainClassifierCommand.Create());
        command.Subcommands.Add(DataTokenizeCommand.Create());
        command.Subcommands.Add(DataPackWarcCommand.Create());
        command.Subcommands.Add(DataLangidCommand.Create());
        return command;
    }

    /// <summary>Runs <paramref name="work"/>, turning expected failures into a one-line message and exit code 1.</summary>
    public static int Guard(Action work)
    {
        try
        {
            work();
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled; rerun the same command to resume");
            return 130;
        }
        catch (Exception error) when (error is InvalidDataException or IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {error.Message}");
            return 1;
        }
        catch (Exception error) when (error is Dclm.Formats.ModelFileException)
        {
            Console.Error.WriteLine($"error: {error.Message}");
            return 1;
        }
    }
}

/// <summary>Prints progress lines to stderr at most twice a second.</summary>
internal sealed class ConsoleProgress : IProgress<Dclm.Data.Pipeline.CurationProgress>
{
    private long _lastTicks;

    public void Report(Dclm.Data.Pipeline.CurationProgress value)
    {
        long now = Environment.TickCount64;
        if (value.Done != value.Total && now - Interlocked.Read(ref _lastTicks) < 500) return;
        Interlocked.Exchange(ref _lastTicks, now);
        Console.Error.WriteLine($"[{value.Phase}] {value.Done}/{value.Total}");
    }

    private static long _lastFractionTicks;

    /// <summary>Prints "[phase] 42%" to stderr at most twice a second, and at 100%.</summary>
    public static void Fraction(string phase, double fraction)
    {
        long now = Environment.TickCount64;
        if (fraction < 1 && now - Interlocked.Read(ref _lastFractionTicks) < 500) return;
        Interlocked.Exchange(ref _lastFractionTicks, now);
        Console.Error.WriteLine($"[{phase}] {fraction:P0}");
    }
}
