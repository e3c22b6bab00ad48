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
        var random = new Random(seed);
        return Write(directory, config, vocabularyPath, chatTemplate, chatTemplate is null ? "tiny-neox.gguf" : "tiny-neox-chat.gguf", null,
            (name, shape, i) => name.EndsWith("inv_freq") ? (float)Math.Pow(10000, -2.0 * i / config.HeadDim)
                : shape.Length == 1 ? 1f : (float)(random.NextDouble() - 0.5) * weightScale);
    }

    /// <summary>
    /// A model that says <paramref name="script"/> (distinct token ids) and then end-of-text, whatever it is asked:
    /// every token outside the script leads to its first token, each script token to the next. Its weights are
    /// set by hand rather than trained: token embeddings are one-hot, every block adds nothing (zero projections),
    /// and the output matrix maps each one-hot to its successor with a margin of ~80 logits, so greedy and
    /// low-temperature decoding follow the script exactly through the real engine.
    /// </summary>
    /// <remarks><paramref name="toolUseTemplate"/>, when given, is stored as the named "tool_use" template (<c>tokenizer.chat_template.tool_use</c>).</remarks>
    public static string WriteScripted(string directory, ModelConfig config, string vocabularyPath, string chatTemplate, IReadOnlyList<int> script, string? toolUseTemplate = null)
    {
        if (script.Distinct().Count() != script.Count || script.Count + 1 >= config.Dim || script.Contains(0))
            throw new ArgumentException("the script needs distinct, non-zero ids, fewer than the model's width", nameof(script));
        // Slot 0 stands for "any token outside the script"; script token k has slot k + 1.
        var slot = script.Select((id, k) => (id, k)).ToDictionary(p => p.id, p => p.k + 1);
        var successor = new Dictionary<int, int> { [0] = script[0] };
        for (int k = 0; k < script.Count; k++) successor[k + 1] = k + 1 < script.Count ? script[k + 1] : 0; // 0: end of text
        return Write(directory, config, vocabularyPath, chatTemplate, "scripted-neox-chat.gguf", toolUseTemplate, (name, shape, i) =>
        {
            if (name.EndsWith("inv_freq")) return (float)Math.Pow(10000, -2.0 * i / config.HeadDim);
            if (shape.Length == 1) return 1f; // norm gains
            long row = i / config.Dim, column = i % config.Dim;
            if (name.Contains("tok_embeddings")) return column == slot.GetValueOrDefault((int)row, 0) ? 1f : 0f;
            if (name.EndsWith("output.weight")) return successor.TryGetValue((int)column, out int next) && next == row ? 10f : 0f;
            return 0f; // attention and feed-forward contribute nothing
        });
    }

    private static string Write(string directory, ModelConfig config, string vocabularyPath, string? chatTemplate, string fileName, string? toolUseTemplate,
        Func<string, long[], long, float> weight)
    {
        string checkpoint = Path.Combine(directory, Path.GetFileNameWithoutExtension(fileName) + "-hf");
        OpenLmCheckpointWriter.Write(checkpoint, config, GgmlType.F32, (name, shape, stream) =>
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var writer = new BinaryWriter(stream);
            for (long i = 0; i < count; i++) writer.Write(weight(name, shape, i));
            writer.Flush();
        });
        string gguf = Path.Combine(directory, fileName);
        using var vocabulary = GgufFile.Open(vocabularyPath);
        using var loaded = ModelLoader.Load(checkpoint);
        GgufExporter.Export(loaded, gguf, GgmlType.F32, writer =>
        {
            foreach (var (key, value) in vocabulary.Metadata)
                if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
            if (chatTemplate is not null) writer.AddMetadata("tokenizer.chat_template", GgufValue.FromString(chatTemplate));
            if (toolUseTemplate is not null) writer.AddMetadata("tokenizer.chat_template.tool_use", GgufValue.FromString(toolUseTemplate));
        });
        return gguf;
    }
}
