using Dclm.Checkpoints;
using Dclm.Formats.Gguf;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Server.Tests;

/// <summary>
/// A tiny open_lm model with random weights and DCLM's GPT-NeoX vocabulary, as one GGUF file (made
/// as users make theirs: an HF checkpoint converted by the exporter), shared by every test.
/// </summary>
public static class TinyModel
{
    private static readonly Lazy<string> File = new(Create);

    public static string Path => File.Value;

    private static string Create()
    {
        string directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dclm-server-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        string checkpoint = System.IO.Path.Combine(directory, "hf");
        var config = ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 512);
        var random = new Random(7);
        OpenLmCheckpointWriter.Write(checkpoint, config, GgmlType.F32, (name, shape, stream) =>
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var writer = new BinaryWriter(stream);
            for (long i = 0; i < count; i++)
                writer.Write(name.EndsWith("inv_freq") ? (float)Math.Pow(10000, -2.0 * i / config.HeadDim)
                    : shape.Length == 1 ? 1f : (float)(random.NextDouble() - 0.5) * 0.5f);
            writer.Flush();
        });
        string gguf = System.IO.Path.Combine(directory, "tiny-neox.gguf");
        string vocabularyPath = System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf");
        using var vocabulary = GgufFile.Open(vocabularyPath);
        using var loaded = ModelLoader.Load(checkpoint);
        GgufExporter.Export(loaded, gguf, GgmlType.F32, writer =>
        {
            foreach (var (key, value) in vocabulary.Metadata)
                if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
        });
        return gguf;
    }
}
