using Dclm.Models;

namespace Dclm.TestSupport;

/// <summary>
/// A tiny open_lm model with random weights and DCLM's GPT-NeoX vocabulary, as one GGUF file (made
/// as users make theirs: an HF checkpoint converted by the exporter), shared by every test of a process. The test project
/// copies the vocabulary to fixtures/gpt-neox-20b.vocab.gguf in its output.
/// </summary>
public static class TinyModel
{
    private static readonly Lazy<string> File = new(Create);

    public static string Path => File.Value;

    private static string Create()
    {
        string directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dclm-tiny-model-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return TinyNeoXModels.Write(directory,
            ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 512),
            seed: 7, weightScale: 0.5f, System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
    }
}
