using System.CommandLine;
using Dclm.Gpu;
using Dclm.Gpu.Conformance;

namespace Dclm.Cli.Commands;

/// <summary>
/// `dclm gpu-check`: the GPU backend's conformance cases (logits against the CPU engine for every graph and weight type,
/// batched decode against one by one) on a device, one PASS/FAIL line each; exit code 1 when any fails.
/// </summary>
internal static class GpuCheckCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cuda, cuda:N, or cpu-accel (ILGPU's CPU accelerator)", DefaultValueFactory = _ => "cuda" };
        var fixtures = new Option<string?>("--fixtures") { Description = "directory holding dclm-tiny and dclm-tiny-bf16 (default: tests/fixtures under the current directory); the Llama and Qwen cases need none" };
        var only = new Option<string?>("--only") { Description = "check one model: dclm-tiny, dclm-tiny-bf16, llama, qwen2, qwen3, llama-window or llama-alibi" };
        var command = new Command("gpu-check", "Check the GPU backend against the CPU engine: one PASS/FAIL line per model, weight type and check") { device, fixtures, only };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            string directory = parse.GetValue(fixtures) ?? Path.Combine("tests", "fixtures");
            if (parse.GetValue(fixtures) is not null && !Directory.Exists(directory)) throw new DirectoryNotFoundException($"--fixtures: no directory {directory}");
            using var opened = GpuDevice.Open(parse.GetValue(device)!);
            Console.WriteLine($"device: {opened.Description}");
            var results = GpuConformance.RunAll(opened, Directory.Exists(directory) ? directory : null, r => Console.WriteLine(r), cancellation, parse.GetValue(only));
            int failed = results.Count(r => !r.Passed);
            Console.WriteLine($"{results.Count - failed} passed, {failed} failed (tolerance {GpuConformance.Tolerance:E0} of each row's largest |logit|; batched decode must be identical)");
            return Task.FromResult(failed == 0 ? 0 : 1);
        }));
        return command;
    }
}
