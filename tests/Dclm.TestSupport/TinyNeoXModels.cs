using Dclm.Checkpoints;
using Dclm.Formats.Gguf;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.TestSupport;

/// <summary>
/// Tiny open_lm models with random weights and DCLM's real GPT-NeoX-20B vocabulary, as one GGUF file,
/// made the way users make theirs: an HF checkpoint written in open_lm's layout, then converted by the
/// exporter.
/// </summary>
public static class TinyNeoXModels
{
    /// <summary>
    /// Writes the model under <paramref name="directory"/> and returns the GGUF path. Weights are uniform
    /// in ±<paramref name="weightScale"/>/2 from <paramref name="seed"/>, norm gains 1; the tokenizer comes
    /// from the vocabulary GGUF at <paramref name="vocabularyPath"/>, with <paramref name="chatTemplate"/> as its GGUF chat template when given.
    /// </summary>
    public static string Write(string directory, ModelConfig config, int seed, float weightScale, string vocabularyPath, string? chatTemplate = null)
    {
        string checkpoint = Path.Combine(directory, "hf");
        var random = new Random(seed);
        OpenLmCheckpointWriter.Write(checkpoint, config, GgmlType.F32, (name, shape, stream) =>
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var writer = new BinaryWriter(stream);
            for (long i = 0; i < count; i++)
                writer.Write(name.EndsWith("inv_freq") ? (float)Math.Pow(10000, -2.0 * i / config.HeadDim)
                    : shape.Length == 1 ? 1f : (float)(random.NextDouble() - 0.5) * weightScale);
            writer.Flush();
        });
        string gguf = Path.Combine(directory, chatTemplate is null ? "tiny-neox.gguf" : "tiny-neox-chat.gguf");
        using var vocabulary = GgufFile.Open(vocabularyPath);
        using var loaded = ModelLoader.Load(checkpoint);
        GgufExporter.Export(loaded, gguf, GgmlType.F32, writer =>
        {
            foreach (var (key, value) in vocabulary.Metadata)
                if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
            if (chatTemplate is not null) writer.AddMetadata("tokenizer.chat_template", GgufValue.FromString(chatTemplate));
        });
        return gguf;
    }
}
