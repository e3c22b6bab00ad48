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
    /// A model that says <paramref name="script"/> and then end-of-text, whatever it is asked, through the real engine with
    /// greedy or low-temperature decoding. Tokens may repeat: each next token is looked up from the last few (see
    /// <see cref="ScriptedWeights"/>), so a reply can be scripted as the tokenizer spells it. Its weights are set by hand
    /// rather than trained.
    /// </summary>
    /// <remarks><paramref name="toolUseTemplate"/>, when given, is stored as the named "tool_use" template (<c>tokenizer.chat_template.tool_use</c>).</remarks>
    public static string WriteScripted(string directory, int contextLength, string vocabularyPath, string chatTemplate, IReadOnlyList<int> script, string? toolUseTemplate = null)
    {
        var weights = new ScriptedWeights(script, contextLength);
        return Write(directory, weights.Config, vocabularyPath, chatTemplate, "scripted-neox-chat.gguf", toolUseTemplate, weights.Weight);
    }

    /// <summary>
    /// A degenerate model that says <paramref name="token"/> forever: one layer whose attention and feed-forward weights
    /// are zero, so the residual stays the embedding, ones in the first half of the width and zeros in the second,
    /// whatever the token. open_lm's gain-only LayerNorm (the GGUF form) turns that into ±½/√(¼+ε), and the output row of
    /// <paramref name="token"/> (±<paramref name="logit"/>/dim by half) reads it as <paramref name="logit"/>/√(1+4ε); every other
    /// row is zero. So the logits are known in closed form at every position (see <see cref="RepeatingLogits"/>).
    /// </summary>
    public static string WriteRepeating(string directory, string vocabularyPath, int token, float logit, string? chatTemplate = null)
    {
        var config = ModelConfig.OpenLm(64, layers: 1, heads: 1, vocabularySize: 50432, contextLength: 256);
        int half = config.Dim / 2;
        return Write(directory, config, vocabularyPath, chatTemplate, "repeating-neox.gguf", null, (name, shape, i) =>
            name.EndsWith("inv_freq") ? (float)Math.Pow(config.RopeTheta, -2.0 * i / config.HeadDim)
            : shape.Length == 1 ? 1f
            : name.Contains("tok_embeddings") ? (i % shape[1] < half ? 1f : 0f)
            : name.EndsWith("output.weight") ? (i / shape[1] == token ? (i % shape[1] < half ? 1 : -1) * logit / config.Dim : 0f)
            : 0f);
    }

    /// <summary>The logits <see cref="WriteRepeating"/>'s model gives at every position: <paramref name="logit"/>/√(1+4ε) for its token, 0 elsewhere.</summary>
    public static float[] RepeatingLogits(int token, float logit, float normEps)
    {
        var logits = new float[50432];
        logits[token] = logit / MathF.Sqrt(1 + 4 * normEps);
        return logits;
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
