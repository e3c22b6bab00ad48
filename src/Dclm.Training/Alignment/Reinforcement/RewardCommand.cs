using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>A completion to be scored, with the prompt it answers.</summary>
/// <param name="Prompt">The prompt's text.</param>
/// <param name="Completion">The generated text (without the end-of-sequence token).</param>
/// <param name="Tokens">Prompt and completion tokens (the end-of-sequence token last when it ended the completion), for a reward model.</param>
public readonly record struct ScoredText(string Prompt, string Completion, int[] Tokens);

/// <summary>Where rollout rewards come from: a program (<see cref="RewardCommand"/>) or a trained reward model.</summary>
public interface IRewardSource : IDisposable
{
    /// <summary>What the source is, for logs and errors.</summary>
    string Name { get; }

    /// <summary>One reward per item, in order.</summary>
    double[] Score(IReadOnlyList<ScoredText> items, CancellationToken cancellation = default);
}

/// <summary>
/// A reward program: run once per batch through <c>/bin/sh -c</c>, it reads one JSON object
/// <c>{"prompt": ..., "completion": ...}</c> a line on standard input and writes one number a line on standard output,
/// in the same order. Its output is checked: a non-zero exit, a missing or extra line, a value that is not a finite
/// number, or a run longer than the timeout is an error naming the command (and the line).
/// </summary>
public sealed class RewardCommand(string command, TimeSpan timeout) : IRewardSource
{
    /// <summary>The shell command line.</summary>
    public string Command { get; } = string.IsNullOrWhiteSpace(command) ? throw new ArgumentException("--reward-command must not be empty") : command;

    /// <inheritdoc/>
    public string Name => $"reward command '{Command}'";

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<ScoredText> items, CancellationToken cancellation = default)
    {
        if (items.Count == 0) return [];
        var input = new StringBuilder();
        foreach (var item in items) input.Append(JsonSerializer.Serialize(new Dictionary<string, string> { ["prompt"] = item.Prompt, ["completion"] = item.Completion })).Append('\n');
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Command);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Name}: could not start /bin/sh");
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        var error = process.StandardError.ReadToEndAsync(cancellation);
        try
        {
            // A program that exits without reading its input closes the pipe: that is reported by its exit and output.
            try { process.StandardInput.Write(input.ToString()); process.StandardInput.Close(); }
            catch (IOException) { }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(timeout);
            try { process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult(); }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new TimeoutException($"{Name} did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (--reward-timeout) for {items.Count} completions");
            }
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        string stdout = output.GetAwaiter().GetResult(), stderr = error.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
            throw new InvalidDataException($"{Name} exited with code {process.ExitCode}{Tail(stderr)}");
        return Parse(stdout, items.Count);
    }

    /// <summary>The rewards in <paramref name="output"/>: exactly <paramref name="expected"/> finite numbers, one a line.</summary>
    public double[] Parse(string output, int expected)
    {
        var lines = output.Split('\n');
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        if (count != expected) throw new InvalidDataException($"{Name} wrote {count} lines for {expected} completions (one number a line, in input order)");
        var rewards = new double[expected];
        for (int i = 0; i < expected; i++)
        {
            string text = lines[i].Trim();
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out rewards[i]) || !double.IsFinite(rewards[i]))
                throw new InvalidDataException($"{Name}: output line {i + 1}: '{Clip(text)}' is not a finite number");
        }
        return rewards;
    }

    private static string Tail(string text)
    {
        text = text.Trim();
        return text.Length == 0 ? "" : ": " + (text.Length > 400 ? "…" + text[^400..] : text);
    }

    private static string Clip(string text) => text.Length > 60 ? text[..60] + "…" : text;

    /// <inheritdoc/>
    public void Dispose() { }
}
