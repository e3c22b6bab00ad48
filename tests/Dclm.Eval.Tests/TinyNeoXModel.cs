using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.TestSupport;

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
        Path = TinyNeoXModels.Write(_directory,
            ModelConfig.OpenLm(dim: 32, layers: 2, heads: 2, vocabularySize: 50432, contextLength: 512),
            seed: 11, weightScale: 0.6f, Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"));
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
