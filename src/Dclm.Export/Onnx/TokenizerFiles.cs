using Dclm.Checkpoints;
using Dclm.Tokenizers;

namespace Dclm.Export.Onnx;

/// <summary>
/// The tokenizer files beside an exported model, as the model builder leaves them for onnxruntime-genai (whose
/// tokenizer reads tokenizer.json and tokenizer_config.json): a Hugging Face checkpoint's own files copied as they
/// are, or for a GGUF file a tokenizer.json written from its vocabulary, with its chat template.
/// </summary>
internal static class TokenizerFiles
{
    private static readonly string[] HuggingFaceFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model", "generation_config.json"];

    /// <summary>Writes the files into <paramref name="directory"/>; returns their names, and why none were written when none were.</summary>
    public static (IReadOnlyList<string> Files, string? Missing) Write(LoadedModel model, string directory)
    {
        if (Directory.Exists(model.Path))
        {
            var copied = new List<string>();
            foreach (string name in HuggingFaceFiles)
            {
                string source = Path.Combine(model.Path, name);
                if (!File.Exists(source)) continue;
                File.Copy(source, Path.Combine(directory, name), overwrite: true);
                copied.Add(name);
            }
            return (copied, copied.Contains("tokenizer.json") ? null : $"{model.Path} has no tokenizer.json");
        }
        if (model.Tokenizer is not { } tokenizer) return ([], $"{model.Path} has no tokenizer");
        if (!TokenizerJsonWriter.CanWrite(tokenizer.Vocabulary))
            return ([], $"its {tokenizer.Vocabulary.ModelKind} tokenizer cannot be written as tokenizer.json yet (byte-level BPE with GPT-2 pre-tokenization can)");
        TokenizerJsonWriter.Write(directory, tokenizer.Vocabulary, ChatTemplateLoader.Read(model.Path));
        return (["tokenizer.json", "tokenizer_config.json"], null);
    }
}
