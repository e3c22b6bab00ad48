using System.Reflection;
using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Formats;
using Dclm.Formats.Onnx;

namespace Dclm.Export.Onnx;

/// <summary>What <see cref="OnnxExporter.Export"/> wrote.</summary>
/// <param name="ModelPath">model.onnx.</param>
/// <param name="DataPath">model.onnx.data, when the weights went there.</param>
/// <param name="Bytes">Bytes of model.onnx and its data file together.</param>
/// <param name="TokenizerFiles">Tokenizer files written beside the model.</param>
/// <param name="TokenizerMissing">Why no tokenizer files were written, when none were.</param>
public sealed record OnnxExport(string ModelPath, string? DataPath, long Bytes, IReadOnlyList<string> TokenizerFiles, string? TokenizerMissing);

/// <summary>
/// Exports a loaded model as a directory onnxruntime-genai runs, laid out as its model builder lays out a decoder:
/// <c>model.onnx</c> (weights inside, or in <c>model.onnx.data</c> past 2 GB), <c>genai_config.json</c> and the
/// tokenizer files. The graph uses ONNX's own operators (opset 17) for f32 and f16, so ONNX Runtime on any device,
/// TensorRT's parser and other runtimes load it; int4 adds ONNX Runtime's <c>com.microsoft</c> <c>MatMulNBits</c>.
/// Weights are converted and written a tensor at a time.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The model file's name, as the model builder names it.</summary>
    public const string ModelFileName = "model.onnx";
    /// <summary>onnxruntime-genai's configuration file.</summary>
    public const string GenAiConfigFileName = "genai_config.json";
    private const int OpsetVersion = 17, IrVersion = 8;

    /// <summary>
    /// Writes <paramref name="model"/> into <paramref name="directory"/> (created if needed). <paramref name="progress"/>
    /// hears (tensors written, tensors); <paramref name="cancellation"/> stops it, leaving no partial file behind.
    /// </summary>
    public static OnnxExport Export(LoadedModel model, string directory, OnnxExportOptions options,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellation = default)
    {
        var config = model.Config;
        options.Validate(config.ContextLength);
        Directory.CreateDirectory(directory);
        AtomicFile.RemoveLeftovers(directory);

        var graph = DecoderGraph.Build(config, model.Model.Weights, options);
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "DclmSharp",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        if (options.Type == OnnxWeightType.Int4) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "architecture", Value = config.Architecture.Name });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "weight_type", Value = options.Type.ToString().ToLowerInvariant() });

        string modelPath = Path.Combine(directory, ModelFileName);
        string staleData = modelPath + ".data";
        string? dataPath = OnnxModelWriter.Write(proto, graph.Weights, modelPath, options.ExternalData, progress, cancellation);
        if (dataPath is null && File.Exists(staleData)) File.Delete(staleData);

        var vocabulary = model.Tokenizer?.Vocabulary;
        var genAi = GenAiConfig.Create(config, vocabulary, ModelFileName, options.ContextLength ?? config.ContextLength);
        AtomicFile.WriteText(Path.Combine(directory, GenAiConfigFileName), genAi.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var (files, missing) = Onnx.TokenizerFiles.Write(model, directory);
        long bytes = new FileInfo(modelPath).Length + (dataPath is null ? 0 : new FileInfo(dataPath).Length);
        return new OnnxExport(modelPath, dataPath, bytes, files, missing);
    }
}
