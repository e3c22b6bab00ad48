using Dclm.Checkpoints;
using Dclm.Formats.Gguf;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Cli.Tests;

/// <summary>
/// A tiny open_lm model with random weights and DCLM's real GPT-NeoX-20B vocabulary, as one GGUF
/// file, made the way users make theirs: an HF checkpoint converted by the exporter.
/// </summary>
internal static class TinyNeoXModel
{
    public static string Create(string directory)
    {
        string checkpoint = Path.Combine(directory, "hf");
        var config = ModelConfig.OpenLm(dim: 32, layers: 1, heads: 2, vocabularySize: 50432, contextLength: 256);
        var random = new Random(5);
        OpenLmCheckpointWriter.Write(checkpoint, config, GgmlType.F32, (name, shape, stream) =>
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var writer = new BinaryWriter(stream);
            for (long i = 0; i < count; i++)
                writer.Write(name.EndsWith("inv_freq") ? (float)Math.Pow(10000, -2.0 * i / config.HeadDim)
                    : shape.Length == 1 ? 1f : (float)(random.NextDouble() - 0.5) * 0.2f);
            writer.Flush();
        });
        string gguf = Path.Combine(directory, "tiny-neox.gguf");
        using var vocabulary = GgufFile.Open(DclmProcess.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"));
        using var loaded = ModelLoader.Load(checkpoint);
        GgufExporter.Export(loaded, gguf, GgmlType.F32, writer =>
        {
            foreach (var (key, value) in vocabulary.Metadata)
                if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
        });
        return gguf;
    }
}
