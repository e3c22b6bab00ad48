using System.Collections.Concurrent;
using Dclm.Checkpoints;
using Dclm.Export.Onnx;
using Dclm.Models;
using Dclm.TestSupport;
using Dclm.Tensors;

namespace Dclm.Export.Tests;

/// <summary>
/// The models the export tests share, made once in a temp directory: DCLM's tiny open_lm fixture (a Hugging Face
/// checkpoint), random-weight GGUFs of Llama (Q/K rows in llama.cpp's adjacent-pair order), Qwen2 (q/k/v biases) and
/// Qwen3 (per-head q/k norms, head width apart from dim/heads) with the real llama-spm vocabulary, and a small open_lm
/// with DCLM's GPT-NeoX tokenizer; and their exports, each made once per set of options.
/// </summary>
public sealed class ExportedModels : IDisposable
{
    /// <summary>Names of the models every architecture test runs over.</summary>
    public static readonly TheoryData<string> Architectures = new() { "dclm-tiny", "openlm", "openlm-alibi", "openlm-neox", "llama", "qwen2", "qwen3" };

    /// <summary>A text for the agreement tests: prose, code and numbers.</summary>
    public const string Text =
        "The quick brown fox jumps over the lazy dog. In July 1969, Apollo 11 landed on the Moon, and Neil " +
        "Armstrong said: \"That's one small step for man, one giant leap for mankind.\" Rivers carve valleys " +
        "over millions of years; glaciers leave lakes behind when they retreat. The committee met on Tuesday " +
        "to review the budget, approve the minutes, and discuss whether the library should open earlier.\n" +
        "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n" +
        "Prices rose 3.7% in 2023, while the median income was $74,580 (up from $70,784).";

    private readonly ConcurrentDictionary<string, Lazy<string>> _models = new();
    private readonly ConcurrentDictionary<string, Lazy<string>> _exports = new();

    public ExportedModels()
    {
        Directory = Path.Combine(Path.GetTempPath(), "dclm-export-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    /// <summary>A fixture file copied beside the tests.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    /// <summary>The model file or directory of <paramref name="name"/>.</summary>
    public string Model(string name) => _models.GetOrAdd(name, n => new Lazy<string>(() => Make(n))).Value;

    /// <summary>The directory <paramref name="name"/> is exported into with <paramref name="options"/> (f32 when null).</summary>
    public string Export(string name, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        string key = $"{name}-{options.Type}-{options.BlockSize}-{options.AccuracyLevel}-{options.ExternalData}".ToLowerInvariant();
        return _exports.GetOrAdd(key, k => new Lazy<string>(() =>
        {
            string directory = Path.Combine(Directory, "onnx-" + k);
            using var model = ModelLoader.Load(Model(name));
            OnnxExporter.Export(model, directory, options);
            return directory;
        })).Value;
    }

    /// <summary>The engine's logits (what `dclm logits` writes) for every position of <paramref name="tokens"/>. (tokens, vocab)</summary>
    public float[] EngineLogits(string name, int[] tokens)
    {
        using var model = ModelLoader.Load(Model(name));
        var cache = model.Model.CreateCache(capacity: tokens.Length);
        var logits = new float[tokens.Length * model.Config.VocabularySize];
        model.Model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), cache, logits);
        return logits;
    }

    /// <summary>
    /// <paramref name="count"/> token ids for <paramref name="name"/>: the <see cref="Text"/> through the model's
    /// tokenizer (repeated as needed), or ids drawn from a fixed seed for a model without one.
    /// </summary>
    public int[] Tokens(string name, int count)
    {
        using var model = ModelLoader.Load(Model(name));
        if (model.Tokenizer is not { } tokenizer)
        {
            var random = new Random(7);
            return Enumerable.Range(0, count).Select(_ => random.Next(model.Config.VocabularySize)).ToArray();
        }
        var ids = new List<int>();
        if (tokenizer.BeginningOfSequenceId is int bos) ids.Add(bos);
        var pieces = tokenizer.Encode(Text);
        while (ids.Count < count) ids.AddRange(pieces);
        return ids.Take(count).ToArray();
    }

    private string Make(string name)
    {
        var llama = new LlamaShape(Layers: 2);
        return name switch
        {
            "dclm-tiny" => Fixture("dclm-tiny"),
            // A decisive head (see RandomLlama) so that top-1 agreement measures the export, not near-ties.
            "llama" => Gguf(RandomLlama.Create(llama, seed: 11, outputShare: 0.4), name, "llama"),
            "qwen2" => Gguf(RandomLlama.Create(llama, seed: 12, outputShare: 0.4, attentionBias: true), name, "qwen2"),
            "qwen3" => Gguf(RandomLlama.Create(llama with { Heads = 8, KeyValueHeads = 2, HeadWidth = 48 }, seed: 13, outputShare: 0.4, headNorms: true), name, "qwen3"),
            "openlm" => OpenLm(name, ModelConfig.OpenLm(dim: 128, layers: 2, heads: 4, vocabularySize: 4096, contextLength: 512), seed: 14),
            // ALiBi inside an 8-position window, RMSNorm, no q/k norm, the head tied to the embedding.
            "openlm-alibi" => OpenLm(name, ModelConfig.OpenLm(dim: 128, layers: 2, heads: 4, vocabularySize: 4096, contextLength: 512) with
            {
                Positions = PositionEncoding.Alibi, SlidingWindow = 8, Norm = NormKind.RmsNorm, QueryKeyNorm = QueryKeyNorm.None, TiedEmbeddings = true,
            }, seed: 15),
            "openlm-neox" => TinyNeoXModels.Write(Path.Combine(Directory, name),
                ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 512),
                seed: 5, weightScale: 0.3f, Fixture("gpt-neox-20b.vocab.gguf")),
            _ => throw new ArgumentException($"no test model named {name}", nameof(name)),
        };
    }

    /// <summary>
    /// An open_lm checkpoint in DCLM's Hugging Face layout with weights as <see cref="RandomLlama"/> draws them: embedding
    /// N(0, 1), projections N(0, 1/fan_in), gains 1 + N(0, 0.1²), and a head that leans on the embedding (decisive logits).
    /// </summary>
    private string OpenLm(string name, ModelConfig config, int seed)
    {
        // Each tensor draws from its own seed: the writer asks for them in an order of its own.
        static float[] Normal(int seed, long count, double mean, double deviation)
        {
            var random = new Random(seed);
            var values = new float[count];
            for (long i = 0; i < count; i++)
                values[i] = (float)(mean + deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            return values;
        }
        var embedding = Normal(seed, (long)config.VocabularySize * config.Dim, 0, 1);
        string directory = Path.Combine(Directory, name);
        OpenLmCheckpointWriter.Write(directory, config, GgmlType.F32, (tensor, shape, stream) =>
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            int tensorSeed = seed * 65536 + tensor.Aggregate(17, (h, c) => unchecked(h * 31 + c)) & 0xFFFF;
            float[] values = tensor.EndsWith("inv_freq", StringComparison.Ordinal)
                ? Enumerable.Range(0, (int)count).Select(i => (float)Math.Pow(config.RopeTheta, -2.0 * i / config.HeadDim)).ToArray()
                : tensor.Contains("tok_embeddings", StringComparison.Ordinal) ? embedding
                : shape.Length == 1 ? Normal(tensorSeed, count, 1, 0.1)
                : Normal(tensorSeed, count, 0, 1 / Math.Sqrt(shape[1]));
            if (tensor.EndsWith("output.weight", StringComparison.Ordinal))
                for (long i = 0; i < count; i++) values[i] += (float)(1.0 * embedding[i] / Math.Sqrt(config.Dim));
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        });
        return directory;
    }

    private string Gguf(RandomLlama model, string name, string architecture)
    {
        string path = Path.Combine(Directory, name + ".gguf");
        LlamaFiles.WriteGguf(model, path, GgmlType.F32, architecture: architecture);
        return path;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>The export tests share one set of models and exports and run one at a time (ONNX Runtime and our engine each want both cores).</summary>
[CollectionDefinition(Name)]
public sealed class ExportCollection : ICollectionFixture<ExportedModels>
{
    public const string Name = "ONNX exports";
}
