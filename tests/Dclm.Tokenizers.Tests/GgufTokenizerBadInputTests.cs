using Dclm.Formats;
using Dclm.Formats.Gguf;

namespace Dclm.Tokenizers.Tests;

/// <summary>GGUF tokenizer metadata that contradicts itself fails with one line naming the file.</summary>
public class GgufTokenizerBadInputTests
{
    // A tiny SentencePiece vocabulary; each test replaces or removes keys before writing the file.
    private static Dictionary<string, GgufValue> ValidMetadata() => new()
    {
        ["general.architecture"] = GgufValue.FromString("llama"),
        ["tokenizer.ggml.model"] = GgufValue.FromString("llama"),
        ["tokenizer.ggml.tokens"] = GgufValue.FromStringArray(["<unk>", "<s>", "</s>", "▁", "a", "▁a"]),
        ["tokenizer.ggml.scores"] = GgufValue.FromArray([0f, 0f, 0f, -1f, -2f, -0.5f]),
        ["tokenizer.ggml.token_type"] = GgufValue.FromArray([2, 3, 3, 1, 1, 1]),
        ["tokenizer.ggml.bos_token_id"] = GgufValue.FromUInt32(1),
        ["tokenizer.ggml.eos_token_id"] = GgufValue.FromUInt32(2),
        ["tokenizer.ggml.unknown_token_id"] = GgufValue.FromUInt32(0),
    };

    private static string Write(TempDirectory directory, Dictionary<string, GgufValue> metadata)
    {
        var writer = new GgufWriter();
        foreach (var (key, value) in metadata)
        {
            writer.AddMetadata(key, value);
        }
        string path = directory.File("vocab.gguf");
        writer.Write(path);
        return path;
    }

    private static string LoadFails(Action<Dictionary<string, GgufValue>> change)
    {
        using var directory = new TempDirectory();
        var metadata = ValidMetadata();
        change(metadata);
        string path = Write(directory, metadata);
        var error = Assert.Throws<ModelFileException>(() => Tokenizer.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        return error.Problem;
    }

    [Fact]
    public void TheValidFileLoads()
    {
        using var directory = new TempDirectory();
        var tokenizer = Tokenizer.Load(Write(directory, ValidMetadata()));
        Assert.Equal([5, 5], tokenizer.Encode("a a"));
        Assert.Equal([1, 5], tokenizer.Encode("a", addSpecialTokens: true));
        Assert.Equal("a a", tokenizer.Decode([5, 5]));
    }

    [Fact]
    public void TokenTypesOfAnotherLength() =>
        Assert.Equal("there are 6 tokens but 5 token types",
            LoadFails(metadata => metadata["tokenizer.ggml.token_type"] = GgufValue.FromArray([2, 3, 3, 1, 1])));

    [Fact]
    public void ScoresOfAnotherLength() =>
        Assert.Equal("there are 6 tokens but 7 scores",
            LoadFails(metadata => metadata["tokenizer.ggml.scores"] = GgufValue.FromArray([0f, 0f, 0f, 0f, 0f, 0f, 0f])));

    [Fact]
    public void UndefinedTokenType() =>
        Assert.Contains("element 4 is 9, not a token type",
            LoadFails(metadata => metadata["tokenizer.ggml.token_type"] = GgufValue.FromArray([2, 3, 3, 1, 9, 1])));

    [Fact]
    public void EndOfSequenceIdOutsideTheVocabulary() =>
        Assert.Equal("the end-of-sequence id 6 is outside the vocabulary of 6 tokens",
            LoadFails(metadata => metadata["tokenizer.ggml.eos_token_id"] = GgufValue.FromUInt32(6)));

    [Fact]
    public void MissingTokens() =>
        Assert.Contains("'tokenizer.ggml.tokens' is missing", LoadFails(metadata => metadata.Remove("tokenizer.ggml.tokens")));

    [Fact]
    public void TokensOfTheWrongType() =>
        Assert.Contains("'tokenizer.ggml.tokens' is array of int32",
            LoadFails(metadata => metadata["tokenizer.ggml.tokens"] = GgufValue.FromArray([1, 2, 3])));

    [Fact]
    public void SentencePieceWithoutScoresOrMerges() =>
        Assert.Equal("a SentencePiece vocabulary needs either merge rules or piece scores",
            LoadFails(metadata => metadata.Remove("tokenizer.ggml.scores")));

    [Fact]
    public void UnsupportedModel() =>
        Assert.Contains("tokenizer model 'bert' is not supported",
            LoadFails(metadata => metadata["tokenizer.ggml.model"] = GgufValue.FromString("bert")));

    [Fact]
    public void UnsupportedPreTokenizer() =>
        Assert.Contains("pre-tokenizer 'mystery', which is not supported", LoadFails(metadata =>
        {
            metadata["tokenizer.ggml.model"] = GgufValue.FromString("gpt2");
            metadata["tokenizer.ggml.pre"] = GgufValue.FromString("mystery");
            metadata["tokenizer.ggml.merges"] = GgufValue.FromStringArray(["▁ a"]);
        }));

    [Fact]
    public void MergeWithoutSeparator() =>
        Assert.Contains("merges' element 0 'abc' is not two pieces", LoadFails(metadata =>
        {
            metadata["tokenizer.ggml.model"] = GgufValue.FromString("gpt2");
            metadata["tokenizer.ggml.merges"] = GgufValue.FromStringArray(["abc"]);
        }));

    [Fact]
    public void MergeNamingAnUnknownPiece() =>
        Assert.Equal("merge rule 0 '▁ b' names 'b', which is not in the vocabulary", LoadFails(metadata =>
        {
            metadata["tokenizer.ggml.model"] = GgufValue.FromString("gpt2");
            metadata["tokenizer.ggml.merges"] = GgufValue.FromStringArray(["▁ b"]);
        }));

    [Fact]
    public void UnknownNormalizer() =>
        Assert.Contains("'tokenizer.ggml.normalizer' is 'nfkd', expected 'nfc' or 'none'",
            LoadFails(metadata => metadata[GgufTokenizerLoader.NormalizerKey] = GgufValue.FromString("nfkd")));

    [Fact]
    public void NormalizerKeySwitchesOnNfc()
    {
        using var directory = new TempDirectory();
        var metadata = ValidMetadata();
        metadata[GgufTokenizerLoader.NormalizerKey] = GgufValue.FromString("nfc");
        Assert.True(Tokenizer.Load(Write(directory, metadata)).Vocabulary.NormalizeToNfc);
    }

    [Fact]
    public void PublicConstructorRejectsAnInconsistentVocabulary()
    {
        var vocabulary = new TokenizerVocabulary
        {
            ModelKind = TokenizerModelKind.ByteLevelBpe,
            Tokens = ["a", "b"],
            TokenTypes = [TokenType.Normal],
        };
        var error = Assert.Throws<ArgumentException>(() => new Tokenizer(vocabulary));
        Assert.Contains("there are 2 tokens but 1 token types", error.Message);
    }

    [Fact]
    public void PublicConstructorRejectsStrippingOnAnOrdinaryToken()
    {
        var vocabulary = new TokenizerVocabulary
        {
            ModelKind = TokenizerModelKind.SentencePieceBpe,
            Tokens = ["<unk>", "a"],
            TokenTypes = [TokenType.Unknown, TokenType.Normal],
            Scores = [0f, -1f],
            AddedTokenStrips = new Dictionary<int, AddedTokenStrip> { [1] = AddedTokenStrip.Left },
        };
        var error = Assert.Throws<ArgumentException>(() => new Tokenizer(vocabulary));
        Assert.Contains("whitespace stripping is set for id 1, which is not an added token", error.Message);
    }
}
