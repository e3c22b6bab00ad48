using System.CommandLine;
using System.Runtime.InteropServices;
using Dclm.Checkpoints;
using Dclm.Formats;
using Dclm.Models;

namespace Dclm.Cli.Commands;

/// <summary>`dclm logits`: float32 little-endian logits, one row of vocab_size values per prompt position.</summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model directory or GGUF file", Required = true };
        var tokens = new Option<string>("--prompt-tokens") { Description = "prompt token ids, e.g. \"1 2 3\"", Required = true };
        var output = new Option<string>("--output") { Description = "file to write the logits to", Required = true };
        var lora = ModelOptions.Lora();
        var tensorParallel = ProcessGroup.TensorParallelOption();
        var device = DeviceOptions.Device();
        var command = new Command("logits", "Write the logits of every prompt position as float32 little-endian rows") { model, tokens, output, lora, tensorParallel, device };
        command.SetAction((parse, cancellation) => ProcessGroup.RunInference(parse.GetValue(tensorParallel), group =>
        {
            var ids = TokenListParser.Parse(parse.GetValue(tokens)!, "--prompt-tokens");
            if (group is not null && parse.GetValue(lora) is not null) throw new ArgumentException("--lora does not combine with --tensor-parallel");
            DeviceOptions.Check(parse.GetValue(device)!);
            using var loaded = ModelLoader.Load(parse.GetValue(model)!, loading: WeightLoading.Mapped, tensorParallel: group);
            var adapters = ModelOptions.ApplyLora(loaded, parse.GetValue(lora));
            ProcessGroup.DescribeShards(loaded.Model);
            using var run = DeviceOptions.Open(loaded.Model, parse.GetValue(device), adapters);
            var m = run.Model;
            if (ids.Length > m.Config.ContextLength) throw new ArgumentException($"--prompt-tokens: {ids.Length} tokens exceed the context of {m.Config.ContextLength}");
            int vocabulary = m.Config.VocabularySize;
            var logits = m.PromptLogits(ids, cancellation: cancellation);
            string path = parse.GetValue(output)!;
            if (group is null || group.IsRoot) AtomicFile.Write(path, stream => stream.Write(MemoryMarshal.AsBytes(logits.AsSpan())));
            Console.WriteLine($"wrote {ids.Length} x {vocabulary} logits to {path}");
            return 0;
        }));
        return command;
    }
}
