using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Formats;

namespace Dclm.Tokenizers;

/// <summary>
/// Writes a byte-level BPE vocabulary (GPT-2 / GPT-NeoX style, e.g. one read from GGUF metadata) as a
/// Hugging Face tokenizer.json plus tokenizer_config.json, so a checkpoint directory carries its tokenizer.
/// </summary>
public static class TokenizerJsonWriter
{
    /// <summary>True when <paramref name="vocabulary"/> can be written as tokenizer.json by <see cref="Write"/>.</summary>
    public static bool CanWrite(TokenizerVocabulary vocabulary) =>
        vocabulary.ModelKind == TokenizerModelKind.ByteLevelBpe && vocabulary.PreTokenizer == PreTokenizerKind.Gpt2 && vocabulary.Merges.Count > 0;

    /// <summary>
    /// Writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/>, the config with
    /// <paramref name="chatTemplate"/> (a Jinja chat template) when given.
    /// </summary>
    public static void Write(string directory, TokenizerVocabulary vocabulary, string? chatTemplate = null)
    {
        if (!CanWrite(vocabulary)) throw new ArgumentException("only byte-level BPE vocabularies with GPT-2 pre-tokenization and merges are written as tokenizer.json");
        var vocab = new JsonObject();
        var added = new JsonArray();
        for (int id = 0; id < vocabulary.Tokens.Count; id++)
        {
            string token = vocabulary.Tokens[id];
            vocab[token] = id;
            var type = vocabulary.TokenTypes[id];
            if (type is TokenType.Control or TokenType.UserDefined)
                added.Add(new JsonObject
                {
                    ["id"] = id, ["content"] = token, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                    ["normalized"] = type == TokenType.UserDefined, ["special"] = type == TokenType.Control,
                });
        }
        var merges = new JsonArray();
        foreach (var merge in vocabulary.Merges) merges.Add(merge.Left + " " + merge.Right);
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = vocabulary.AddPrefixSpace, ["trim_offsets"] = true, ["use_regex"] = true };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = vocabulary.NormalizeToNfc ? new JsonObject { ["type"] = "NFC" } : null,
            ["pre_tokenizer"] = byteLevel,
            ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["ignore_merges"] = vocabulary.IgnoreMerges,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["add_bos_token"] = vocabulary.AddBeginningOfSequence,
            ["add_eos_token"] = vocabulary.AddEndOfSequence,
        };
        if (vocabulary.BeginningOfSequenceId is int bos) config["bos_token"] = vocabulary.Tokens[bos];
        if (vocabulary.EndOfSequenceId is int eos) config["eos_token"] = vocabulary.Tokens[eos];
        if (vocabulary.UnknownId is int unknown) config["unk_token"] = vocabulary.Tokens[unknown];
        if (chatTemplate is not null) config["chat_template"] = chatTemplate;
        WriteJson(Path.Combine(directory, "tokenizer.json"), root);
        WriteJson(Path.Combine(directory, "tokenizer_config.json"), config);
    }

    private static void WriteJson(string path, JsonNode node)
    {
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
            node.WriteTo(writer);
        });
    }
}
