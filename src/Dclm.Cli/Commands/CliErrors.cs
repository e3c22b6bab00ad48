using Dclm.Formats;

namespace Dclm.Cli.Commands;

/// <summary>Turns the errors users can cause (bad files, bad arguments) into one line on stderr and exit code 1.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> body) => RunAsync(() => Task.FromResult(body())).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is ModelFileException or InvalidDataException or ArgumentException or FileNotFoundException
            or DirectoryNotFoundException or FormatException or NotSupportedException or IOException or UnauthorizedAccessException
            or Gpu.GpuUnavailableException;
}
