using Dclm.Models;
using Dclm.TestSupport;

namespace Dclm.Cli.Tests;

/// <summary>The CLI tests' tiny model: one layer of width 32, context 256 (see <see cref="TinyNeoXModels"/>).</summary>
internal static class TinyNeoXModel
{
    public static string Create(string directory) => TinyNeoXModels.Write(directory,
        ModelConfig.OpenLm(dim: 32, layers: 1, heads: 2, vocabularySize: 50432, contextLength: 256),
        seed: 5, weightScale: 0.2f, DclmProcess.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf"));
}
