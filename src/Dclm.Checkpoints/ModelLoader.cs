using Dclm.Formats;
using Dclm.Formats.Gguf;
using Dclm.Formats.Safetensors;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;

namespace Dclm.Checkpoints;

/// <summary>
/// Opens a model from a Hugging Face checkpoint directory (open_lm or Llama config.json with
/// safetensors) or from a GGUF file. Weights are memory-mapped and used in place.
/// </summary>
public static class ModelLoader
{
    /// <summary>Loads the model at <paramref name="path"/>; problems are reported as <see cref="ModelFileException"/>.</summary>
    public static LoadedModel Load(string path, ComputePool? pool = null)
    {
        if (File.Exists(path)) return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || IsGguf(path) ? LoadGguf(path, pool) : throw new ModelFileException(path, "is neither a GGUF file nor a checkpoint directory");
        if (Directory.Exists(path)) return LoadHuggingFace(path, pool);
        throw new ModelFileException(path, "no such file or directory");
    }

    private static LoadedModel LoadGguf(string path, ComputePool? pool)
    {
        var file = GgufFile.Open(path);
        try
        {
            var config = GgufModelReader.ReadConfig(file);
            var tokenizer = FitVocabulary(path, config, file.Metadata.ContainsKey("tokenizer.ggml.tokens") ? Tokenizer.FromGguf(file) : null);
            var weights = GgufModelReader.Bind(file, config);
            return new LoadedModel(path, "gguf", Build(path, config, weights, pool), tokenizer, CountTypes(file.Tensors));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static LoadedModel LoadHuggingFace(string directory, ComputePool? pool)
    {
        string configPath = System.IO.Path.Combine(directory, "config.json");
        var config = HfConfigReader.Read(configPath);
        string tokenizerPath = System.IO.Path.Combine(directory, "tokenizer.json");
        var tokenizer = FitVocabulary(tokenizerPath, config, File.Exists(tokenizerPath) ? Tokenizer.Load(tokenizerPath) : null);
        var checkpoint = SafetensorsCheckpoint.Open(directory);
        try
        {
            var binder = new TensorBinder(directory, checkpoint.Tensors);
            var weights = config.Architecture == Architecture.OpenLm
                ? HfOpenLmWeights.Bind(binder, config, checkpoint)
                : HfLlamaWeights.Bind(binder, config, checkpoint);
            return new LoadedModel(directory, "safetensors", Build(directory, config, weights, pool), tokenizer, CountTypes(checkpoint.Tensors));
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private static DecoderModel Build(string path, ModelConfig config, ModelWeights weights, ComputePool? pool)
    {
        try { return new DecoderModel(config, weights, pool); }
        catch (InvalidDataException e) { throw new ModelFileException(path, e.Message, e); }
    }

    /// <summary>
    /// The tokenizer may have fewer ids than the embedding has rows (DCLM-7B: 50277 tokens, 50432 rows),
    /// never more; the spare rows become placeholder control tokens so any sampled id decodes.
    /// </summary>
    private static Tokenizer? FitVocabulary(string path, ModelConfig config, Tokenizer? tokenizer)
    {
        if (tokenizer is null || tokenizer.VocabularySize == config.VocabularySize) return tokenizer;
        if (tokenizer.VocabularySize > config.VocabularySize)
            throw new ModelFileException(path, $"the tokenizer has {tokenizer.VocabularySize} tokens but the model's vocabulary is {config.VocabularySize}");
        return new Tokenizer(tokenizer.Vocabulary.PadTo(config.VocabularySize));
    }

    private static bool IsGguf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }

    private static Dictionary<string, long> CountTypes(IReadOnlyDictionary<string, TensorEntry> tensors)
    {
        var counts = new Dictionary<string, long>();
        foreach (var entry in tensors.Values) counts[entry.DtypeName] = counts.GetValueOrDefault(entry.DtypeName) + 1;
        return counts;
    }
}
