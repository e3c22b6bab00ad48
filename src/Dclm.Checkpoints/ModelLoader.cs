using System.Diagnostics;
using Dclm.Distributed;
using Dclm.Formats;
using Dclm.Formats.Gguf;
using Dclm.Formats.Safetensors;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Tokenizers;

namespace Dclm.Checkpoints;

/// <summary>
/// Opens a model from a Hugging Face checkpoint directory (open_lm or Llama config.json with
/// safetensors) or from a GGUF file. The weights are read into memory when they fit (decode then runs at
/// the memory-bandwidth bound), else, or when asked, memory-mapped and used in place (<see cref="WeightLoading"/>).
/// </summary>
public static class ModelLoader
{
    /// <summary>
    /// Loads the model at <paramref name="path"/>, holding its weights as <paramref name="loading"/> asks
    /// (<see cref="LoadedModel.Residence"/> says what was chosen and why); a copy reports the fraction read so far to
    /// <paramref name="progress"/>. Problems are reported as <see cref="ModelFileException"/>.
    /// With <paramref name="tensorParallel"/> (a group of more than one rank), this process loads only its shard of the
    /// model (<see cref="DecoderModel.Sharded"/>): the file is mapped, whatever <paramref name="loading"/> says, so the
    /// other ranks' rows are never read, and the shard's column blocks are copied out of the mapping.
    /// </summary>
    public static LoadedModel Load(string path, ComputePool? pool = null, WeightLoading loading = WeightLoading.Automatic, IProgress<double>? progress = null,
        ICommunicator? tensorParallel = null)
    {
        var shards = tensorParallel is { Size: > 1 } ? tensorParallel : null;
        if (shards is not null) loading = WeightLoading.Mapped;
        if (File.Exists(path)) return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || IsGguf(path) ? LoadGguf(path, pool, loading, progress, shards) : throw new ModelFileException(path, "is neither a GGUF file nor a checkpoint directory");
        if (Directory.Exists(path)) return LoadHuggingFace(path, pool, loading, progress, shards);
        throw new ModelFileException(path, "no such file or directory");
    }

    private static LoadedModel LoadGguf(string path, ComputePool? pool, WeightLoading loading, IProgress<double>? progress, ICommunicator? shards)
    {
        var clock = Stopwatch.StartNew();
        long bytes = new FileInfo(path).Length;
        var (file, reason) = Open(bytes, loading, (residence, onRead) => GgufFile.Open(path, residence, onRead), progress);
        try
        {
            var residence = new WeightResidence(file.Residence, bytes, file.HugePageBytes, clock.Elapsed, reason);
            var config = GgufModelReader.ReadConfig(file);
            var tokenizer = FitVocabulary(path, config, file.Metadata.ContainsKey("tokenizer.ggml.tokens") ? Tokenizer.FromGguf(file) : null);
            var weights = GgufModelReader.Bind(file, config);
            var types = CountTypes(file.Tensors);
            return new LoadedModel(path, "gguf", Build(path, config, weights, pool, shards), tokenizer, types, residence);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static LoadedModel LoadHuggingFace(string directory, ComputePool? pool, WeightLoading loading, IProgress<double>? progress, ICommunicator? shards)
    {
        var clock = Stopwatch.StartNew();
        string configPath = System.IO.Path.Combine(directory, "config.json");
        var config = HfConfigReader.Read(configPath);
        string tokenizerPath = System.IO.Path.Combine(directory, "tokenizer.json");
        var tokenizer = FitVocabulary(tokenizerPath, config, File.Exists(tokenizerPath) ? Tokenizer.Load(tokenizerPath) : null);
        // Every shard the checkpoint may open: an upper bound on what a copy takes.
        long bytes = Directory.GetFiles(directory, "*.safetensors").Sum(shard => new FileInfo(shard).Length);
        var (checkpoint, reason) = Open(bytes, loading, (residence, onRead) => SafetensorsCheckpoint.Open(directory, residence, onRead), progress);
        try
        {
            var residence = new WeightResidence(checkpoint.Files.Count > 0 ? checkpoint.Files[0].Residence : FileResidence.Mapped,
                checkpoint.Files.Sum(f => f.FileLength), checkpoint.Files.Sum(f => f.HugePageBytes), clock.Elapsed, reason);
            var binder = new TensorBinder(directory, checkpoint.Tensors);
            var weights = config.Architecture == Architecture.OpenLm
                ? HfOpenLmWeights.Bind(binder, config, checkpoint)
                : HfLlamaWeights.Bind(binder, config, checkpoint);
            var types = CountTypes(checkpoint.Tensors);
            return new LoadedModel(directory, "safetensors", Build(directory, config, weights, pool, shards), tokenizer, types, residence);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the file(s) as <see cref="WeightResidence.Choose"/> decides; an automatic copy that cannot get its
    /// memory falls back to the mapping.
    /// </summary>
    private static (T Opened, string Reason) Open<T>(long bytes, WeightLoading loading, Func<FileResidence, Action<long>?, T> open, IProgress<double>? progress)
    {
        var (residence, reason) = WeightResidence.Choose(bytes, loading == WeightLoading.Automatic ? AvailableMemory.Read() : default, loading);
        long read = 0;
        Action<long>? onRead = progress is null ? null : count => progress.Report(Math.Min(1.0, (double)(read += count) / Math.Max(1, bytes)));
        try
        {
            return (open(residence, onRead), reason);
        }
        catch (ModelFileException e) when (loading == WeightLoading.Automatic && residence == FileResidence.Copied && e.InnerException is OutOfMemoryException)
        {
            return (open(FileResidence.Mapped, null), $"{reason}, but the copy could not get its memory");
        }
    }

    private static DecoderModel Build(string path, ModelConfig config, ModelWeights weights, ComputePool? pool, ICommunicator? shards)
    {
        try
        {
            return shards is null ? new DecoderModel(config, weights, pool) : DecoderModel.Sharded(config, weights, shards, pool);
        }
        catch (InvalidDataException e) { throw new ModelFileException(path, e.Message, e); }
        catch (ArgumentException e) when (shards is not null) { throw new ModelFileException(path, e.Message, e); }
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
