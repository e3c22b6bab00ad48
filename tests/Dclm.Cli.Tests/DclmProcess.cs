using System.Diagnostics;

namespace Dclm.Cli.Tests;

/// <summary>Runs the built `dclm` as a child process, as users and scripts do.</summary>
internal static class DclmProcess
{
    /// <summary>
    /// When a run counts as hung. Only a ceiling, never a speed check: each command here takes seconds on an idle
    /// machine, but the whole suite runs many at once on a few shared cores, and a slow run is not a failure.
    /// </summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(6);

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string LastLine => Output.TrimEnd('\n', '\r').Split('\n')[^1].TrimEnd('\r');
    }

    public static Result Run(params string[] arguments) => RunWith(new Dictionary<string, string?>(), arguments);

    /// <summary>Runs dclm with <paramref name="environment"/> added to (or, for null values, removed from) this process's environment.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string?> environment, params string[] arguments) => Start(environment, null, arguments);

    /// <summary>Runs dclm with <paramref name="input"/> (UTF-8) on its standard input.</summary>
    public static Result RunWithInput(string input, params string[] arguments) => Start(new Dictionary<string, string?>(), input, arguments);

    private static Result Start(IReadOnlyDictionary<string, string?> environment, string? input, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = input is not null,
            StandardInputEncoding = input is null ? null : new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(HangLimit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dclm {string.Join(' ', arguments)} did not finish in {HangLimit.TotalSeconds} s");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    /// <summary>Runs the built dclm under Open MPI's mpirun with <paramref name="ranks"/> processes (root allowed, as CI runs as root).</summary>
    public static Result Mpirun(int ranks, string[] arguments)
    {
        var start = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        foreach (var a in (string[])["-np", ranks.ToString(), "--oversubscribe", "dotnet", Path.Combine(AppContext.BaseDirectory, "dclm.dll"), .. arguments])
            start.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException("mpirun was not found: run scripts/setup.sh (it installs openmpi-bin)", e); }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(HangLimit))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"mpirun dclm {string.Join(' ', arguments)} did not finish in {HangLimit.TotalSeconds} s");
            }
            return new Result(process.ExitCode, output.Result, error.Result);
        }
    }
}
