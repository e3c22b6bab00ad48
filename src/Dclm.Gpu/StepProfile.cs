using System.Diagnostics;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// Device time per part of a forward step, for finding where a step's time goes on a GPU (docs/gpu.md): with
/// <see cref="Variable"/> set, each <see cref="Mark"/> waits for the device and charges the time since the previous mark
/// to its label, separately for decode steps (≤ 8 tokens) and larger ones. Waiting after every part costs a few
/// microseconds each, so profiled steps run slower than unprofiled ones; the split, not the sum, is the reading.
/// Printed to standard error when the model is disposed.
/// </summary>
internal sealed class StepProfile(Accelerator accelerator)
{
    /// <summary>Environment variable that turns profiling on ("1").</summary>
    public const string Variable = "DCLM_GPU_PROFILE";

    private readonly Dictionary<string, (double Seconds, long Count)> _parts = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = new();
    private string _kind = "decode";
    private long _steps, _prefillSteps;

    /// <summary>A profile when <see cref="Variable"/> is "1", else null (no waiting, no cost).</summary>
    public static StepProfile? FromEnvironment(Accelerator accelerator) =>
        Environment.GetEnvironmentVariable(Variable) == "1" ? new StepProfile(accelerator) : null;

    /// <summary>Starts a step of <paramref name="tokens"/> tokens (the device is drained first, uncharged).</summary>
    public void Begin(int tokens)
    {
        accelerator.Synchronize();
        _kind = tokens <= Kernels.MatrixKernels.DecodeTokens ? "decode" : "prefill";
        if (_kind == "decode") _steps++; else _prefillSteps++;
        _clock.Restart();
    }

    /// <summary>Waits for the device and charges the time since the last mark to <paramref name="part"/>.</summary>
    public void Mark(string part)
    {
        accelerator.Synchronize();
        string key = _kind + " " + part;
        _parts.TryGetValue(key, out var sum);
        _parts[key] = (sum.Seconds + _clock.Elapsed.TotalSeconds, sum.Count + 1);
        _clock.Restart();
    }

    /// <summary>One line per part: milliseconds per step and share of its kind's total.</summary>
    public void Report(TextWriter writer)
    {
        foreach (var kind in new[] { "decode", "prefill" })
        {
            long steps = kind == "decode" ? _steps : _prefillSteps;
            var parts = _parts.Where(p => p.Key.StartsWith(kind + " ", StringComparison.Ordinal)).OrderByDescending(p => p.Value.Seconds).ToList();
            if (steps == 0 || parts.Count == 0) continue;
            double total = parts.Sum(p => p.Value.Seconds);
            writer.WriteLine($"gpu profile, {kind}: {steps} steps, {1e3 * total / steps:F3} ms per step (each part waited for)");
            foreach (var (key, (seconds, count)) in parts)
                writer.WriteLine($"  {key[(kind.Length + 1)..],-16} {1e3 * seconds / steps,9:F3} ms/step {100 * seconds / total,5:F1}%  {1e6 * seconds / count,9:F1} us/call  {count / steps} calls/step");
        }
    }
}
