using System.CommandLine;
using Dclm.Checkpoints;
using Dclm.Eval.Perplexity;

namespace Dclm.Cli.Commands;

/// <summary>`dclm perplexity`: perplexity and bits per byte of a text file, with a sliding window.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var text = new Option<string>("--text") { Description = "UTF-8 text file to score", Required = true };
        var window = new Option<int?>("--window") { Description = "tokens per window (default: the model's context)" };
        var stride = new Option<int?>("--stride") { Description = "tokens the window advances by (default: half the window)" };
        var threads = ModelOptions.Threads();
        var lora = ModelOptions.Lora();
        var device = DeviceOptions.Device();
        var command = new Command("perplexity", "Perplexity and bits per byte of a text file") { model, text, window, stride, threads, lora, device };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            string path = parse.GetValue(text)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such text file");
            string content = File.ReadAllText(path);
            using var pool = new Tensors.Compute.ComputePool(Math.Max(1, parse.GetValue(threads)));
            DeviceOptions.Check(parse.GetValue(device)!);
            using var loaded = ModelLoader.Load(parse.GetValue(model)!, pool);
            var adapters = ModelOptions.ApplyLora(loaded, parse.GetValue(lora));
            using var run = DeviceOptions.Open(loaded.Model, parse.GetValue(device), adapters);
            var result = new PerplexityEvaluator(run.Model, loaded.RequireTokenizer()).Evaluate(content, parse.GetValue(window), parse.GetValue(stride), cancellation);
            Console.WriteLine($"tokens {result.Tokens}, bytes {result.Bytes}, windows {result.Windows}");
            Console.WriteLine($"perplexity {result.Perplexity:F4}");
            Console.WriteLine($"bits per byte {result.BitsPerByte:F4}");
            Console.WriteLine($"{result.TokensPerSecond:F1} tokens/s");
            return Task.FromResult(0);
        }));
        return command;
    }
}
