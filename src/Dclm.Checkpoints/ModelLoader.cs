using Dclm.Formats;
using Dclm.Formats.Gguf;
using Dclm.Formats.Safetensors;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;

namespace Dclm.Checkpoints;

/// <summary>
/// Opens a model from a Hugging Face checkpoint directory (open_lm or Llama config.json with
/// safetensors) or from a GGUF file. Weights are memory-mapped and used in place, or, when asked,
/// copied into anonymous memory and the file unmapped (llama.cpp's --no-mmap).
/// </summary>
public static class ModelLoader
{
    /// <summary>
    /// Loads the model at <paramref name="path"/>; problems are reported as <see cref="ModelFileException"/>.
    /// With <paramref name="copyWeights"/> the weights are copied out of the file (see <see cref="ModelWeights.CopyToMemory"/>).
    /// </summary>
    public static LoadedModel Load(string path, ComputePool? pool = null, bool copyWeights = false)
    {
        if (File.Exists(path)) return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || IsGguf(path) ? LoadGguf(path, pool, copyWeights) : throw new ModelFileException(path, "is neither a GGUF file nor a checkpoint directory");
        if (Directory.Exists(path)) return LoadHuggingFace(path, pool, copyWeights);
        throw new ModelFileException(path, "no such file or directory");
    }

    private static LoadedModel LoadGguf(string path, ComputePool? pool, bool copyWeights)
    {
        var file = GgufFile.Open(path);
        try
        {
            var config = GgufModelReader.ReadConfig(file);
            var tokenizer = FitVocabulary(path, config, file.Metadata.ContainsKey("tokenizer.ggml.tokens") ? Tokenizer.FromGguf(file) : null);
            var weights = GgufModelReader.Bind(file, config);
            var types = CountTypes(file.Tensors);
            return new LoadedModel(path, "gguf", Build(path, config, weights, pool, copyWeights), tokenizer, types);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static LoadedModel LoadHuggingFace(string directory, ComputePool? pool, bool copyWeights)
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
            var types = CountTypes(checkpoint.Tensors);
            return new LoadedModel(directory, "safetensors", Build(directory, config, weights, pool, copyWeights), tokenizer, types);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private static DecoderModel Build(string path, ModelConfig config, ModelWeights weights, ComputePool? pool, bool copyWeights)
    {
        try
        {
            if (copyWeights)
            {
                // Refuse a mis-shaped file before copying gigabytes of it (DecoderModel checks the mapped case).
                weights.Validate(config);
                var copied = weights.CopyToMemory();
                weights.Dispose();
                weights = copied;
            }
            return new DecoderModel(config, weights, pool);
        }
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
