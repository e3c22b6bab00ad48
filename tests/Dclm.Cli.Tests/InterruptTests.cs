using System.Diagnostics;
using System.Runtime.InteropServices;
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

    private const int SignalInterrupt = 2; // SIGINT, what a terminal sends on Ctrl+C

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int processId, int signal);

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

        var (_, errors, step) = await InterruptAtStep3(arguments);
        Assert.Contains("interrupted: saving a checkpoint of the last completed update", errors);
        Assert.InRange(step, 3, 39);

        var rerun = DclmProcess.Run(arguments);
        Assert.Equal(0, rerun.ExitCode);
        Assert.Contains($"(step {step})", rerun.Error);
        Assert.StartsWith("final model:", rerun.LastLine);
        Assert.DoesNotContain($"step 1/40 ", rerun.Error);
    }

    /// <summary>
    /// dclm with <paramref name="arguments"/>, sent SIGINT once it reports update 3, as a user would press Ctrl+C mid-run.
    /// Checks the exit code (130) and the checkpoint it names; returns what it printed and the step it stopped at.
    /// </summary>
    private static async Task<(string Output, string Errors, int Step)> InterruptAtStep3(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        // The run ends 37 updates (about 4 s idle) after "step 3/", so the signal must follow that line at once. A
        // thread of its own, blocked on the pipe, wakes with the line and signals with one system call; an async
        // continuation could wait seconds for a pool thread while the suite keeps the pool busy, and starting
        // `kill` as a process under load takes a while too.
        var errors = new StringBuilder();
        var reader = new Thread(() =>
        {
            bool signalled = false;
            while (process.StandardError.ReadLine() is { } line)
            {
                errors.AppendLine(line);
                if (!signalled && line.StartsWith("step 3/", StringComparison.Ordinal)) signalled = SendSignal(process.Id, SignalInterrupt) == 0;
            }
        }) { IsBackground = true };
        reader.Start();
        // Ceilings for a hung process only; saving a checkpoint of this model takes well under a second idle.
        using (var limit = new CancellationTokenSource(DclmProcess.HangLimit)) await process.WaitForExitAsync(limit.Token);
        Assert.True(reader.Join(TimeSpan.FromMinutes(1)), "dclm's standard error stayed open after it exited");
        string printed = await output;
        Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}: {printed}{errors}");
        var stopped = Stopped().Match(printed);
        Assert.True(stopped.Success, printed + errors);
        Assert.True(Directory.Exists(stopped.Groups[2].Value));
        return (printed, errors.ToString(), int.Parse(stopped.Groups[1].Value));
    }

    [Fact]
    public async Task ASecondCtrlCEndsTheProcessAtOnceWhateverTheCommandIsDoing()
    {
        if (!OperatingSystem.IsLinux()) return;
        // dclm chat waits for a line on standard input, which stays open: the first Ctrl+C cancels work that is not
        // looking, so only the second can end it. Each signal is sent after the line that shows the previous one landed.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dclm.dll"));
        foreach (string argument in (string[])["chat", "--model", TinyNeoXModel.Create(_directory), "--threads", "1"]) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        try
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = new StringBuilder();
            var reader = new Thread(() =>
            {
                while (process.StandardError.ReadLine() is { } line)
                {
                    lock (errors) errors.AppendLine(line);
                    if (line.StartsWith("dclm chat with", StringComparison.Ordinal) || line.StartsWith("interrupted: ", StringComparison.Ordinal))
                        SendSignal(process.Id, SignalInterrupt);
                }
            }) { IsBackground = true };
            reader.Start();
            using (var limit = new CancellationTokenSource(DclmProcess.HangLimit)) await process.WaitForExitAsync(limit.Token);
            Assert.True(reader.Join(TimeSpan.FromMinutes(1)), "dclm's standard error stayed open after it exited");
            string printed;
            lock (errors) printed = errors.ToString();
            Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}: {await output}{printed}");
            var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines, l => l.StartsWith("interrupted: ending cleanly", StringComparison.Ordinal));
            Assert.Equal("interrupted again: exiting now, without finishing or saving", lines[^1]);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task CtrlCDuringFineTuningSavesACheckpointAndResumeFinishesTheAdapter()
    {
        if (!OperatingSystem.IsLinux()) return;
        string data = Path.Combine(_directory, "support.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 60).Select(i =>
            $$"""{"prompt": "Customer: question {{i}}?\nAgent:", "completion": " answer {{i % 7}}."}"""));
        string output = Path.Combine(_directory, "finetune");
        string[] arguments =
        [
            "finetune", "--model", TinyNeoXModel.Create(_directory), "--data", data, "--output", output, "--lora-rank", "4",
            "--seq-len", "64", "--batch-size", "2", "--grad-accum", "1", "--steps", "40", "--eval-every", "1000",
            "--checkpoint-every", "1000", "--threads", "1", "--no-progress",
        ];
        var (_, errors, step) = await InterruptAtStep3(arguments);
        Assert.Contains("interrupted: saving a checkpoint of the last completed update", errors);
        Assert.InRange(step, 3, 39);
        // Each update's line: loss, learning rate, tokens/s, ETA and resident memory.
        Assert.Matches(@"step 2/40 loss \d+\.\d{4} lr \S+ \d+ tok/s eta \d\d:\d\d:\d\d mem \d+\.\d\d GiB", errors);
        Assert.False(File.Exists(Path.Combine(output, "adapter", "adapter_model.safetensors")));

        // A fresh run refuses the directory; --resume continues from the checkpoint and writes the adapter.
        Assert.NotEqual(0, DclmProcess.Run(arguments).ExitCode);
        var resumed = DclmProcess.Run([.. arguments, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains($"(step {step})", resumed.Error);
        Assert.Equal($"adapter: {Path.Combine(output, "adapter")}", resumed.LastLine);
        Assert.True(File.Exists(Path.Combine(output, "adapter", "adapter_model.safetensors")));
    }
}
