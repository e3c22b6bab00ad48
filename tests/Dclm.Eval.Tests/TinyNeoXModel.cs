using Dclm.Checkpoints;
using Dclm.Formats.Gguf;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Eval.Tests;

/// <summary>
/// A tiny open_lm model with random weights and DCLM's GPT-NeoX-20B vocabulary in one GGUF file, made
/// once per test class (an HF checkpoint converted by the exporter, as users make theirs).
/// </summary>
public sealed class TinyNeoXModel : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-model-").FullName;

    public TinyNeoXModel()
    {
        string checkpoint = System.IO.Path.Combine(_directory, "hf");
        var config = ModelConfig.OpenLm(dim: 32, layers: 2, heads: 2, vocabularySize: 50432, contextLength: 512);
        var random = new Random(11);
        OpenLmCheckpointWriter.Write(checkpoint, config, GgmlType.F32, (name, shape, stream) =>
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var writer = new BinaryWriter(stream);
            for (long i = 0; i < count; i++)
                writer.Write(name.EndsWith("inv_freq") ? (float)Math.Pow(10000, -2.0 * i / config.HeadDim)
                    : shape.Length == 1 ? 1f : (float)(random.NextDouble() - 0.5) * 0.6f);
            writer.Flush();
        });
        Path = System.IO.Path.Combine(_directory, "tiny-neox.gguf");
        using var vocabulary = GgufFile.Open(Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"));
        using (var loaded = ModelLoader.Load(checkpoint))
        {
            GgufExporter.Export(loaded, Path, GgmlType.F32, writer =>
            {
                foreach (var (key, value) in vocabulary.Metadata)
                    if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) writer.AddMetadata(key, value);
            });
        }
        Loaded = ModelLoader.Load(Path);
    }

    /// <summary>The GGUF file.</summary>
    public string Path { get; }
    /// <summary>The model, loaded once.</summary>
    public LoadedModel Loaded { get; }

    public static string Fixture(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    public void Dispose()
    {
        Loaded.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
