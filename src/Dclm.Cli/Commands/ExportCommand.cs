using System.CommandLine;
using Dclm.Checkpoints;
using Dclm.Export.Onnx;

namespace Dclm.Cli.Commands;

/// <summary>`dclm export onnx --model P --output DIR [--type f32|f16|int4] [--block-size 32] [--ctx N] [--external-data]`.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var command = new Command("export", "Export a model for another runtime");
        command.Subcommands.Add(CreateOnnx());
        return command;
    }

    private static Command CreateOnnx()
    {
        var model = ModelOptions.Model();
        var output = new Option<string>("--output") { Description = "directory to write model.onnx, genai_config.json and the tokenizer files into", Required = true };
        var type = new Option<string>("--type") { Description = "weights: f32 (exact), f16 (half the size, for GPUs) or int4 (MatMulNBits blocks, for CPUs)", DefaultValueFactory = _ => "f32" };
        type.AcceptOnlyFromAmong("f32", "f16", "int4");
        var blockSize = new Option<int>("--block-size") { Description = "int4 values per block: a power of two from 16 to 256", DefaultValueFactory = _ => 32 };
        var context = new Option<int?>("--ctx") { Description = "longest sequence onnxruntime-genai runs (default: the model's context)" };
        var externalData = new Option<bool>("--external-data") { Description = "weights in model.onnx.data even under 2 GB" };
        var command = new Command("onnx", "Export to ONNX for ONNX Runtime and onnxruntime-genai (model builder layout)")
            { model, output, type, blockSize, context, externalData };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            var options = new OnnxExportOptions
            {
                Type = parse.GetValue(type) switch { "f16" => OnnxWeightType.F16, "int4" => OnnxWeightType.Int4, _ => OnnxWeightType.F32 },
                BlockSize = parse.GetValue(blockSize),
                ContextLength = parse.GetValue(context),
                ExternalData = parse.GetValue(externalData),
            };
            using var loaded = ModelLoader.Load(parse.GetValue(model)!);
            options.Validate(loaded.Config.ContextLength);
            string directory = parse.GetValue(output)!;
            var line = new ProgressLine();
            var progress = new DirectProgress<(int Done, int Total)>(p => line.Show($"exporting: {p.Done}/{p.Total} tensors"));
            var export = OnnxExporter.Export(loaded, directory, options, progress, cancellation);
            line.Finish();
            Console.WriteLine($"wrote {export.ModelPath}" + (export.DataPath is null ? "" : $" and {export.DataPath}") +
                $" ({export.Bytes:N0} bytes, {parse.GetValue(type)}), {OnnxExporter.GenAiConfigFileName}" +
                (export.TokenizerFiles.Count > 0 ? ", " + string.Join(", ", export.TokenizerFiles) : ""));
            if (export.TokenizerMissing is not null) Console.Error.WriteLine($"note: no tokenizer files: {export.TokenizerMissing}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
