using System.Text.Json;

namespace Dclm.Tokenizers.Tests;

/// <summary>
/// GPT-NeoX's tokenizer.json layout (the one DCLM-7B ships): NFC normalizer, ByteLevel pre-tokenizer
/// and decoder, "a b" merges, and added tokens for runs of spaces that are matched before splitting.
/// The file is rebuilt here from the NeoX GGUF fixture's vocabulary and must give the same 46 vectors.
/// </summary>
public class NeoXTokenizerJsonTests
{
    [Fact]
    public void TokenizerJsonLayoutEncodesTheNeoXVectors()
    {
        var source = Fixtures.Gguf("gpt-neox-20b").Vocabulary;
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllBytes(path, BuildTokenizerJson(source));

        var tokenizer = Tokenizer.Load(path);
        Assert.True(tokenizer.Vocabulary.NormalizeToNfc);
        Assert.Equal(TokenType.UserDefined, tokenizer.GetTokenType(50276));
        foreach (var (text, expected) in VocabularyTestVectors.Read("gpt-neox-20b"))
        {
            Assert.Equal(expected, tokenizer.Encode(text));
        }
        // NFC makes a decomposed "ü" encode like the composed one.
        Assert.Equal(tokenizer.Encode("Führer"), tokenizer.Encode("Fu\u0308hrer"));
    }

    [Fact]
    public void PaddingToTheModelsRowCountAddsUserDefinedTokens()
    {
        var vocabulary = Fixtures.Gguf("gpt-neox-20b").Vocabulary;
        var truncated = new TokenizerVocabulary
        {
            ModelKind = vocabulary.ModelKind,
            Tokens = vocabulary.Tokens.Take(50277).ToArray(),
            TokenTypes = vocabulary.TokenTypes.Take(50277).ToArray(),
            Merges = vocabulary.Merges,
            BeginningOfSequenceId = 0,
            EndOfSequenceId = 0,
        };
        var padded = new Tokenizer(truncated.PadTo(50432));
        Assert.Equal(50432, padded.VocabularySize);
        Assert.Equal("[PAD50431]", padded.TokenText(50431));
        Assert.Equal(TokenType.Control, padded.GetTokenType(50300));
        // A placeholder is never read out of plain text, and streaming output skips it.
        Assert.DoesNotContain(50300, padded.Encode("[PAD50300]"));
        Assert.Equal("", padded.Decode([50300], skipSpecialTokens: true));
        Assert.Same(truncated, truncated.PadTo(100));
    }

    private static byte[] BuildTokenizerJson(TokenizerVocabulary source)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteStartArray("added_tokens");
            for (int id = 0; id < source.Tokens.Count; id++)
            {
                if (source.TokenTypes[id] is TokenType.Control or TokenType.UserDefined)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id", id);
                    json.WriteString("content", source.Tokens[id]);
                    json.WriteBoolean("single_word", false);
                    json.WriteBoolean("lstrip", false);
                    json.WriteBoolean("rstrip", false);
                    json.WriteBoolean("normalized", source.TokenTypes[id] == TokenType.UserDefined);
                    json.WriteBoolean("special", source.TokenTypes[id] == TokenType.Control);
                    json.WriteEndObject();
                }
            }
            json.WriteEndArray();
            json.WritePropertyName("normalizer");
            JsonSerializer.Serialize(json, new { type = "NFC" });
            json.WritePropertyName("pre_tokenizer");
            JsonSerializer.Serialize(json, new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true });
            json.WritePropertyName("post_processor");
            JsonSerializer.Serialize(json, new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true });
            json.WritePropertyName("decoder");
            JsonSerializer.Serialize(json, new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true });
            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteStartObject("vocab");
            for (int id = 0; id < source.Tokens.Count; id++)
            {
                if (source.TokenTypes[id] == TokenType.Normal || source.TokenTypes[id] == TokenType.Control)
                {
                    json.WriteNumber(source.Tokens[id], id);
                }
            }
            json.WriteEndObject();
            json.WriteStartArray("merges");
            foreach (var merge in source.Merges)
            {
                json.WriteStringValue(merge.ToString());
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }
}
