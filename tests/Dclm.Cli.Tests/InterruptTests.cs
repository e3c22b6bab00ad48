using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Dclm.Cli.Tests;

/// <summary>Ctrl+C (SIGINT) on long work, sent to the real process the way a terminal sends it.</summary>
public sealed partial class InterruptTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-interrupt-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex(@"stopped at step (\d+); checkpoint (\S+)")]
    private static partial Regex Stopped();

    [Fact]
    public async Task CtrlCDuringTrainingSavesACheckpointAndTheRerunResumesFromIt()
    {
        if (!OperatingSystem.IsLinux()) return;
        string data = Path.Combine(_directory, "data.txt");
        var text = new StringBuilder();
        for (int i = 0; i < 400; i++) text.AppendLine($"Paragraph {i}: the committee met again on day {i % 31} to discuss budget line {i * 7 % 113}.");
        File.WriteAllText(data, text.ToString());
        string[] arguments =
        [
            "train", "--data", data, "--tokenizer", DclmProcess.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"),
            "--output", Path.Combine(_directory, "run"), "--dim", "32", "--layers", "1", "--heads", "2", "--seq-len", "64",
            "--batch-size", "4", "--steps", "40", "--warmup", "2", "--eval-every", "1000", "--checkpoint-every", "1000",
            "--threads", "1", "--no-progress",
        ];

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = new StringBuilder();
        // Interrupt once a few updates have run, as a user would press Ctrl+C mid-run.
        while (await process.StandardError.ReadLineAsync() is { } line)
        {
            errors.AppendLine(line);
            if (line.StartsWith("step 3/", StringComparison.Ordinal))
            {
                using var kill = Process.Start("kill", ["-INT", process.Id.ToString()])!;
                await kill.WaitForExitAsync();
                break;
            }
        }
        errors.Append(await process.StandardError.ReadToEndAsync());
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await process.WaitForExitAsync(limit.Token);
        Assert.Equal(130, process.ExitCode);
        Assert.Contains("interrupted: finishing this update and saving a checkpoint", errors.ToString());
        string printed = await output;
        var stopped = Stopped().Match(printed);
        Assert.True(stopped.Success, printed + errors);
        int step = int.Parse(stopped.Groups[1].Value);
        Assert.InRange(step, 3, 39);
        Assert.True(Directory.Exists(stopped.Groups[2].Value));

        var rerun = DclmProcess.Run(arguments);
        Assert.Equal(0, rerun.ExitCode);
        Assert.Contains($"(step {step})", rerun.Error);
        Assert.StartsWith("final model:", rerun.LastLine);
        Assert.DoesNotContain($"step 1/40 ", rerun.Error);
    }
}
