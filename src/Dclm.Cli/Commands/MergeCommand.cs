using System.CommandLine;
using Dclm.Checkpoints;
using Dclm.Tensors;
using Dclm.Training.FineTuning;
using Dclm.Checkpoints.Adapters;

namespace Dclm.Cli.Commands;

/// <summary>`dclm merge --model BASE --lora ADAPTER --output OUT.gguf [--type T]`: the adapter folded into the weights, one GGUF file.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var lora = new Option<string>("--lora") { Description = "a PEFT adapter directory (adapter_config.json, adapter_model.safetensors), e.g. runs/NAME/adapter", Required = true };
        var output = new Option<string>("--output") { Description = "GGUF file to write", Required = true };
        var type = new Option<string>("--type") { Description = "tensor type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k", DefaultValueFactory = _ => "f16" };
        var command = new Command("merge", "Merge a LoRA adapter into its base model and write one GGUF file") { model, lora, output, type };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            string typeName = parse.GetValue(type)!;
            if (!GgmlTypeInfo.TryParse(typeName, out var target) || Array.IndexOf(GgufExporter.TargetTypes, target) < 0)
                throw new ArgumentException($"--type: '{typeName}' is not one of {string.Join(", ", GgufExporter.TargetTypes.Select(GgmlTypeInfo.Name))}");
            string source = parse.GetValue(model)!;
            using var loaded = ModelLoader.Load(source);
            var adapters = PeftAdapter.Read(parse.GetValue(lora)!, loaded.Config);
            var templates = ChatTemplateLoader.All(source);
            string path = parse.GetValue(output)!;
            var progress = new Progress<(int Done, int Total)>(p => Console.Error.Write($"\rmerging: {p.Done}/{p.Total} matrices"));
            AdapterMerger.Merge(loaded, adapters, path, target,
                loaded.Tokenizer is { } t ? w =>
                {
                    GgufTokenizerWriter.Write(w, t.Vocabulary);
                    foreach (var (key, template) in templates) w.AddString(key, template);
                } : null,
                progress, cancellation);
            Console.Error.WriteLine();
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes, {GgmlTypeInfo.Name(target)}; {adapters.Updates.Count} projection updates merged)");
            return Task.FromResult(0);
        }));
        return command;
    }
}
