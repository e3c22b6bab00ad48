using System.Text.Json;
using Dclm.Formats;

namespace Dclm.Tokenizers.Tests;

/// <summary>Malformed tokenizer.json files fail with one line naming the file and the problem.</summary>
public class TokenizerJsonBadInputTests
{
    // A byte-level tokenizer with the full 256-character alphabet, one merge and one added token.
    private static Dictionary<string, object?> ValidDocument()
    {
        var vocabulary = new Dictionary<string, int>();
        for (int value = 0; value < 256; value++)
        {
            vocabulary[ByteLevelAlphabet.CharacterOf((byte)value).ToString()] = value;
        }
        vocabulary["ab"] = 256;
        return new Dictionary<string, object?>
        {
            ["added_tokens"] = new[] { new { id = 257, content = "<|end|>", special = true } },
            ["normalizer"] = null,
            ["pre_tokenizer"] = new { type = "ByteLevel", add_prefix_space = false, use_regex = true },
            ["model"] = new Dictionary<string, object?> { ["type"] = "BPE", ["vocab"] = vocabulary, ["merges"] = new[] { "a b" } },
        };
    }

    private static ModelFileException LoadFails(TempDirectory directory, string content)
    {
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, content);
        var error = Assert.Throws<ModelFileException>(() => Tokenizer.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    private static string Serialize(Dictionary<string, object?> document) => JsonSerializer.Serialize(document);

    [Fact]
    public void TheValidDocumentLoadsAndMerges()
    {
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, Serialize(ValidDocument()));
        var tokenizer = Tokenizer.Load(path);
        Assert.Equal(258, tokenizer.VocabularySize);
        Assert.Equal([256, 99, 257], tokenizer.Encode("abc<|end|>", parseSpecialTokens: true));
        Assert.Equal("abc<|end|>", tokenizer.Decode([256, 99, 257]));
    }

    [Fact]
    public void InvalidJson()
    {
        using var directory = new TempDirectory();
        Assert.Contains("not valid JSON", LoadFails(directory, "{\"model\": {").Message);
    }

    [Fact]
    public void MissingModel()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document.Remove("model");
        Assert.Contains("no \"model\" object", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void UnsupportedModelType()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, object?>)document["model"]!)["type"] = "WordPiece";
        Assert.Contains("model type 'WordPiece' is not supported", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void MergeNamingAnUnknownToken()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, object?>)document["model"]!)["merges"] = new[] { "a b", "ab zz" };
        Assert.Contains("merge rule 1 'ab zz' names 'zz', which is not in the vocabulary", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void MergeMakingAnUnknownToken()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, object?>)document["model"]!)["merges"] = new[] { new[] { "a", "b" }, new[] { "b", "c" } };
        Assert.Contains("makes 'bc', which is not in the vocabulary", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void MalformedMerge()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, object?>)document["model"]!)["merges"] = new object[] { 7 };
        Assert.Contains("merge 0 is 7", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void IdOutOfRange()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, int>)((Dictionary<string, object?>)document["model"]!)["vocab"]!)["ab"] = 2_000_000_000;
        Assert.Contains("out of range", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void NegativeId()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, int>)((Dictionary<string, object?>)document["model"]!)["vocab"]!)["ab"] = -3;
        Assert.Contains("has the id -3, which is out of range", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void DuplicatedId()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, int>)((Dictionary<string, object?>)document["model"]!)["vocab"]!)["ab"] = 5;
        Assert.Contains("the id 5 is used twice", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void AddedTokenContradictingTheVocabulary()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document["added_tokens"] = new[] { new { id = 256, content = "<|end|>", special = true } };
        Assert.Contains("added token '<|end|>' has the id 256, which the vocabulary gives to 'ab'", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void UnsupportedPreTokenizer()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document["pre_tokenizer"] = new { type = "BertPreTokenizer" };
        Assert.Contains("pre-tokenizer 'BertPreTokenizer' is not supported", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void SplitPatternThatDoesNotCompile()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document["pre_tokenizer"] = new
        {
            type = "Sequence",
            pretokenizers = new object[]
            {
                new { type = "Split", pattern = new { Regex = "(unclosed" }, behavior = "Isolated", invert = false },
                new { type = "ByteLevel", add_prefix_space = false, use_regex = false },
            },
        };
        Assert.Contains("pattern does not compile", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void MissingFile()
    {
        using var directory = new TempDirectory();
        string path = directory.File("absent.json");
        var error = Assert.Throws<ModelFileException>(() => Tokenizer.Load(path));
        Assert.StartsWith(path + ": cannot be read", error.Message);
    }

    [Fact]
    public void ConfigurationBesideTheFileSuppliesSpecialTokens()
    {
        using var directory = new TempDirectory();
        File.Copy(Fixtures.Path("llama3.tokenizer.json.gz"), directory.File("tokenizer.json.gz"));
        File.WriteAllText(directory.File("tokenizer_config.json"),
            "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": {\"content\": \"<|end_of_text|>\"}, \"add_bos_token\": true}");
        var tokenizer = Tokenizer.Load(directory.File("tokenizer.json.gz"));
        Assert.Equal(128000, tokenizer.BeginningOfSequenceId);
        Assert.Equal(128001, tokenizer.EndOfSequenceId);
        Assert.Equal([128000, 9906], tokenizer.Encode("Hello", addSpecialTokens: true));

        File.WriteAllText(directory.File("tokenizer_config.json"), "{\"eos_token\": \"<|nope|>\"}");
        var error = Assert.Throws<ModelFileException>(() => Tokenizer.Load(directory.File("tokenizer.json.gz")));
        Assert.StartsWith(directory.File("tokenizer_config.json") + ": eos_token '<|nope|>' is not in the vocabulary", error.Message);
    }
}
