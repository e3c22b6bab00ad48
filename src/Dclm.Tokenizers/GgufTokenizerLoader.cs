using Dclm.Formats;
using Dclm.Formats.Gguf;

namespace Dclm.Tokenizers;

/// <summary>
/// Reads a <see cref="TokenizerVocabulary"/> from GGUF metadata (<c>tokenizer.ggml.*</c>) as llama.cpp
/// writes it: "gpt2" vocabularies are byte-level BPE with merges, "llama" vocabularies are
/// SentencePiece pieces with scores and byte-fallback tokens. <c>tokenizer.ggml.pre</c> names the
/// split pattern; a missing one (older files such as GPT-NeoX conversions) means GPT-2's pattern,
/// which is what those models' Hugging Face tokenizers use. Qwen 2 style vocabularies are NFC-normalized
/// as their Hugging Face tokenizers are (llama.cpp skips that step). Standard GGUF records no normalizer,
/// so this project's own key <c>tokenizer.ggml.normalizer</c> = "nfc" (ignored by llama.cpp) carries it
/// for vocabularies such as GPT-NeoX's whose tokenizer.json normalizes.
/// </summary>
public static class GgufTokenizerLoader
{
    private const string Prefix = "tokenizer.ggml.";

    /// <summary>Reads the vocabulary; problems throw <see cref="ModelFileException"/> naming the file and key.</summary>
    public static TokenizerVocabulary Load(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = file.GetString(Prefix + "model");
        var kind = model switch
        {
            "gpt2" => TokenizerModelKind.ByteLevelBpe,
            "llama" => TokenizerModelKind.SentencePieceBpe,
            _ => throw new ModelFileException(file.FilePath, $"tokenizer model '{model}' is not supported (expected 'gpt2' or 'llama')"),
        };
        string[] tokens = file.GetStringArray(Prefix + "tokens");
        var types = ReadTypes(file, tokens.Length);
        float[] scores = file.TryGetFloat32Array(Prefix + "scores", out float[]? read) ? read : [];
        var merges = file.TryGetStringArray(Prefix + "merges", out string[]? mergeLines) ? ParseMerges(file.FilePath, mergeLines) : [];
        string? preName = file.TryGetString(Prefix + "pre", out string? pre) ? pre : null;
        var preTokenizer = kind == TokenizerModelKind.ByteLevelBpe ? PreTokenizerFor(file.FilePath, preName) : PreTokenizerKind.None;

        return new TokenizerVocabulary
        {
            ModelKind = kind,
            Tokens = tokens,
            TokenTypes = types,
            Scores = scores,
            Merges = merges,
            PreTokenizer = preTokenizer,
            IgnoreMerges = preTokenizer == PreTokenizerKind.Llama3,
            NormalizeToNfc = preTokenizer == PreTokenizerKind.Qwen2 || ReadNormalizer(file),
            ByteFallback = kind == TokenizerModelKind.SentencePieceBpe,
            // llama.cpp applies add_space_prefix to SentencePiece vocabularies only.
            AddPrefixSpace = kind == TokenizerModelKind.SentencePieceBpe && ReadBool(file, "add_space_prefix", true),
            UnknownId = ReadId(file, "unknown_token_id"),
            BeginningOfSequenceId = ReadId(file, "bos_token_id"),
            EndOfSequenceId = ReadId(file, "eos_token_id"),
            PaddingId = ReadId(file, "padding_token_id"),
            FillInMiddle = new FillInMiddleTokens(
                ReadId(file, "fim_pre_token_id") ?? ReadId(file, "prefix_token_id"), ReadId(file, "fim_suf_token_id") ?? ReadId(file, "suffix_token_id"),
                ReadId(file, "fim_mid_token_id") ?? ReadId(file, "middle_token_id"), ReadId(file, "fim_pad_token_id"),
                ReadId(file, "fim_rep_token_id"), ReadId(file, "fim_sep_token_id")),
            AddBeginningOfSequence = ReadBool(file, "add_bos_token", kind == TokenizerModelKind.SentencePieceBpe),
            AddEndOfSequence = ReadBool(file, "add_eos_token", false),
        };
    }

    /// <summary>
    /// Maps llama.cpp's pre-tokenizer names onto the patterns implemented here. llama.cpp writes "default"
    /// for byte-level vocabularies it does not recognise and then splits with a stack of four patterns; here
    /// it means GPT-2's pattern, the Hugging Face ByteLevel default, which is what such files were trained with.
    /// </summary>
    internal static PreTokenizerKind PreTokenizerFor(string path, string? name) => name switch
    {
        null or "default" or "gpt-2" or "gpt2" or "gpt-neox" or "mpt" or "olmo" or "jais" => PreTokenizerKind.Gpt2,
        "llama3" or "llama-v3" or "llama-bpe" or "dbrx" or "smaug-bpe" or "falcon3" or "pixtral" => PreTokenizerKind.Llama3,
        "qwen2" or "deepseek-r1-qwen" or "stablelm2" or "megrez" => PreTokenizerKind.Qwen2,
        _ => throw new ModelFileException(path, $"metadata key '{Prefix}pre' names the pre-tokenizer '{name}', which is not supported"),
    };

    private static TokenType[] ReadTypes(GgufFile file, int tokenCount)
    {
        if (!file.TryGetInt32Array(Prefix + "token_type", out int[]? values))
        {
            return Enumerable.Repeat(TokenType.Normal, tokenCount).ToArray();
        }
        var types = new TokenType[values.Length];
        for (int index = 0; index < values.Length; index++)
        {
            if (!Enum.IsDefined((TokenType)values[index]))
            {
                throw new ModelFileException(file.FilePath, $"metadata key '{Prefix}token_type' element {index} is {values[index]}, not a token type (1..6)");
            }
            types[index] = (TokenType)values[index];
        }
        return types;
    }

    private static MergePair[] ParseMerges(string path, string[] lines)
    {
        var merges = new MergePair[lines.Length];
        for (int rank = 0; rank < lines.Length; rank++)
        {
            // The separator is the first space after the first character, so a left piece that is itself
            // a space (possible in SentencePiece vocabularies) still parses.
            string line = lines[rank];
            int space = line.Length > 1 ? line.IndexOf(' ', 1) : -1;
            if (space < 0)
            {
                throw new ModelFileException(path, $"metadata key '{Prefix}merges' element {rank} '{line}' is not two pieces separated by a space");
            }
            merges[rank] = new MergePair(line[..space], line[(space + 1)..]);
        }
        return merges;
    }

    private static int? ReadId(GgufFile file, string key)
    {
        if (!file.TryGetInt64(Prefix + key, out long value))
        {
            return null;
        }
        // llama.cpp writes -1 (or 0xFFFFFFFF as uint32) for "none".
        if (value is -1 or uint.MaxValue)
        {
            return null;
        }
        if (value is < 0 or > int.MaxValue)
        {
            throw new ModelFileException(file.FilePath, $"metadata key '{Prefix}{key}' is {value}, not a token id");
        }
        return (int)value;
    }

    /// <summary>The metadata key that records Unicode normalization, which standard GGUF does not.</summary>
    public const string NormalizerKey = Prefix + "normalizer";

    private static bool ReadNormalizer(GgufFile file)
    {
        if (!file.TryGetString(NormalizerKey, out string? normalizer))
        {
            return false;
        }
        return normalizer switch
        {
            "nfc" => true,
            "none" => false,
            _ => throw new ModelFileException(file.FilePath, $"metadata key '{NormalizerKey}' is '{normalizer}', expected 'nfc' or 'none'"),
        };
    }

    private static bool ReadBool(GgufFile file, string key, bool fallback) => file.TryGetBool(Prefix + key, out bool value) ? value : fallback;
}
