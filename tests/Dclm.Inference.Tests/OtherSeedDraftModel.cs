using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Inference.Tests;

/// <summary>
/// A one-layer open_lm of another seed in the tiny model's NeoX vocabulary, written on first use to a folder of its own:
/// it shares the vocabulary and is mostly wrong about the tiny model, so drafts from it are mostly rejected.
/// </summary>
internal sealed class OtherSeedDraftModel(int contextLength) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dclm-other-draft-" + Guid.NewGuid().ToString("N"));
    private LoadedModel? _loaded;

    /// <summary>The draft model, written and loaded on first use.</summary>
    public DecoderModel Model => (_loaded ??= Load()).Model;

    private LoadedModel Load()
    {
        Directory.CreateDirectory(_directory);
        string path = TinyNeoXModels.Write(_directory, ModelConfig.OpenLm(dim: 32, layers: 1, heads: 2, vocabularySize: 50432, contextLength: contextLength),
            seed: 11, weightScale: 0.5f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
        return ModelLoader.Load(path);
    }

    public void Dispose()
    {
        _loaded?.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
