using Dclm.Formats.Gguf;
using Dclm.Tokenizers;

namespace Dclm.Checkpoints;

/// <summary>Writes a tokenizer into GGUF metadata (<c>tokenizer.ggml.*</c>) the way llama.cpp reads it.</summary>
public static class GgufTokenizerWriter
{
    private const string Prefix = "tokenizer.ggml.";

    /// <summary>Adds every key needed to rebuild <paramref name="vocabulary"/> from the file.</summary>
    public static void Write(GgufWriter writer, TokenizerVocabulary vocabulary)
    {
        bool byteLevel = vocabulary.ModelKind == TokenizerModelKind.ByteLevelBpe;
        writer.AddString(Prefix + "model", byteLevel ? "gpt2" : "llama");
        if (byteLevel)
        {
            writer.AddString(Prefix + "pre", vocabulary.PreTokenizer switch
            {
                PreTokenizerKind.Llama3 => "llama-bpe",
                PreTokenizerKind.Qwen2 => "qwen2",
                PreTokenizerKind.Gpt2 => "gpt-2",
                _ => throw new NotSupportedException($"the pre-tokenizer {vocabulary.PreTokenizer} has no GGUF name"),
            });
        }
        writer.AddStringArray(Prefix + "tokens", vocabulary.Tokens);
        writer.AddInt32Array(Prefix + "token_type", vocabulary.TokenTypes.Select(t => (int)t).ToArray());
        if (vocabulary.Scores.Count > 0) writer.AddFloat32Array(Prefix + "scores", vocabulary.Scores.ToArray());
        if (vocabulary.Merges.Count > 0) writer.AddStringArray(Prefix + "merges", vocabulary.Merges.Select(m => m.ToString()).ToArray());
        void Id(string key, int? id) { if (id is int value) writer.AddUInt32(Prefix + key, (uint)value); }
        Id("bos_token_id", vocabulary.BeginningOfSequenceId);
        Id("eos_token_id", vocabulary.EndOfSequenceId);
        Id("unknown_token_id", vocabulary.UnknownId);
        Id("padding_token_id", vocabulary.PaddingId);
        writer.AddBool(Prefix + "add_bos_token", vocabulary.AddBeginningOfSequence);
        writer.AddBool(Prefix + "add_eos_token", vocabulary.AddEndOfSequence);
        if (!byteLevel) writer.AddBool(Prefix + "add_space_prefix", vocabulary.AddPrefixSpace);
        // GGUF has no standard key for NFC; llama.cpp ignores ours, our loader reads it.
        writer.AddString(GgufTokenizerLoader.NormalizerKey, vocabulary.NormalizeToNfc ? "nfc" : "none");
    }
}
