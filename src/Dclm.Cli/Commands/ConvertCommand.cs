using System.CommandLine;
using Dclm.Checkpoints;
using Dclm.Tensors;

namespace Dclm.Cli.Commands;

/// <summary>`dclm convert --model P --output OUT.gguf --type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k`.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var output = new Option<string>("--output") { Description = "GGUF file to write", Required = true };
        var type = new Option<string>("--type") { Description = "tensor type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k", DefaultValueFactory = _ => "f16" };
        var command = new Command("convert", "Convert a model to one GGUF file, optionally quantized") { model, output, type };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            string typeName = parse.GetValue(type)!;
            if (!GgmlTypeInfo.TryParse(typeName, out var target) || Array.IndexOf(GgufExporter.TargetTypes, target) < 0)
                throw new ArgumentException($"--type: '{typeName}' is not one of {string.Join(", ", GgufExporter.TargetTypes.Select(GgmlTypeInfo.Name))}");
            string source = parse.GetValue(model)!;
            using var loaded = ModelLoader.Load(source, loading: WeightLoading.Mapped);
            // The chat templates travel with the tokenizer, so a converted instruct model still chats (and calls tools) as it should.
            var templates = ChatTemplateLoader.All(source);
            string path = parse.GetValue(output)!;
            var line = new ProgressLine();
            var progress = new DirectProgress<(int Done, int Total)>(p => line.Show($"converting: {p.Done}/{p.Total} matrices"));
            GgufExporter.Export(loaded, path, target,
                loaded.Tokenizer is { } t ? w =>
                {
                    GgufTokenizerWriter.Write(w, t.Vocabulary);
                    foreach (var (key, template) in templates) w.AddString(key, template);
                } : null,
                progress, cancellation);
            line.Finish();
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes, {GgmlTypeInfo.Name(target)})");
            return Task.FromResult(0);
        }));
        return command;
    }
}
