using Dclm.Formats.Gguf;
using Dclm.Tensors;
using Dclm.Tokenizers;

namespace Dclm.TestSupport;

/// <summary>
/// The real Qwen tokenizer (Qwen3's tokenizer.json, which Qwen2.5-Coder shares, FIM tokens included) written as GGUF
/// metadata the way llama.cpp's converter writes it, and a small random-weight Qwen2 model that carries it.
/// </summary>
public static class QwenFiles
{
    /// <summary>The tokenizer.json fixture; test projects link it into their output's fixtures folder.</summary>
    public static string TokenizerJsonPath => Path.Combine(AppContext.BaseDirectory, "fixtures", "qwen3.tokenizer.json.gz");

    /// <summary>Qwen's end of text, which its converter records as both BOS and EOS (with add_bos_token false).</summary>
    public const int EndOfTextId = 151643;

    /// <summary>Adds the <c>tokenizer.ggml.*</c> keys: model gpt2, pre-tokenizer qwen2, tokens, types, merges, BOS/EOS, no BOS added.</summary>
    public static void AddTokenizer(GgufWriter writer)
    {
        var vocabulary = Tokenizer.Load(TokenizerJsonPath).Vocabulary;
        writer.AddString("tokenizer.ggml.model", "gpt2");
        writer.AddString("tokenizer.ggml.pre", "qwen2");
        writer.AddStringArray("tokenizer.ggml.tokens", vocabulary.Tokens);
        writer.AddInt32Array("tokenizer.ggml.token_type", vocabulary.TokenTypes.Select(type => (int)type).ToArray());
        writer.AddStringArray("tokenizer.ggml.merges", vocabulary.Merges.Select(merge => merge.ToString()).ToArray());
        writer.AddUInt32("tokenizer.ggml.bos_token_id", EndOfTextId);
        writer.AddUInt32("tokenizer.ggml.eos_token_id", EndOfTextId);
        writer.AddBool("tokenizer.ggml.add_bos_token", false);
    }

    /// <summary>Writes only the tokenizer (llama.cpp loads such a file vocabulary-only).</summary>
    public static void WriteVocabulary(string path)
    {
        var writer = new GgufWriter();
        writer.AddString("general.architecture", "qwen2");
        AddTokenizer(writer);
        writer.Write(path);
    }

    /// <summary>
    /// A tiny random Qwen2 (attention biases, NeoX RoPE) over the full Qwen vocabulary, F32, written to <paramref name="path"/>:
    /// width 32, one layer, so the 151669-row embedding and head (about 40 MB) are most of it.
    /// </summary>
    public static void WriteRandomModel(string path, int contextLength = 1024, ulong seed = 20261204)
    {
        int vocabularySize = Tokenizer.Load(TokenizerJsonPath).VocabularySize;
        var shape = new LlamaShape(Dim: 32, Layers: 1, Heads: 2, KeyValueHeads: 1, HiddenDim: 64, VocabularySize: vocabularySize, ContextLength: contextLength);
        var model = RandomLlama.Create(shape, seed, attentionBias: true);
        LlamaFiles.WriteGguf(model, path, GgmlType.F32, architecture: "qwen2", addTokenizer: AddTokenizer);
    }
}
