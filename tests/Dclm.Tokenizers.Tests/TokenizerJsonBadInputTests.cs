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
        Assert.Contains("the pre-tokenizer pattern '(unclosed' does not compile", LoadFails(directory, Serialize(document)).Message);
    }

    private static void SetAddedTokenField(Dictionary<string, object?> document, string field, object? value) =>
        document["added_tokens"] = new[] { new Dictionary<string, object?> { ["id"] = 257, ["content"] = "<|end|>", ["special"] = true, [field] = value } };

    [Theory]
    [InlineData("special", "\"yes\"")]
    [InlineData("special", "1")]
    [InlineData("lstrip", "\"false\"")]
    [InlineData("rstrip", "0")]
    [InlineData("normalized", "null")]
    [InlineData("normalized", "[]")]
    [InlineData("single_word", "{}")]
    public void AddedTokenFlagsThatAreNotBooleansAreRefused(string flag, string json)
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        SetAddedTokenField(document, flag, JsonDocument.Parse(json).RootElement);
        Assert.Contains($"added token 0 ('<|end|>') has \"{flag}\": {json}, expected true or false", LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void AddedTokenWithSingleWordIsRefused()
    {
        // single_word limits where a token matches; not applying it would match it inside words.
        using var directory = new TempDirectory();
        var document = ValidDocument();
        SetAddedTokenField(document, "single_word", true);
        Assert.Contains("added token 0 ('<|end|>') sets single_word, which is not supported", LoadFails(directory, Serialize(document)).Message);
    }

    [Theory]
    [InlineData("null", "the model's \"type\" is null, expected a string such as \"BPE\"")]
    [InlineData("5", "the model's \"type\" is 5, expected a string")]
    [InlineData("\"\"", "model type '' is not supported (only BPE)")]
    [InlineData("\"bpe\"", "model type 'bpe' is not supported (only BPE)")]
    public void ModelTypeThatIsNotBpeIsRefused(string json, string fragment)
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, object?>)document["model"]!)["type"] = JsonDocument.Parse(json).RootElement;
        Assert.Contains(fragment, LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void AModelWithoutATypeIsReadAsBpeAsHuggingFaceReadsIt()
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        ((Dictionary<string, object?>)document["model"]!).Remove("type");
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, Serialize(document));
        Assert.Equal([256, 99], Tokenizer.Load(path).Encode("abc"));
    }

    [Theory]
    [InlineData("""{"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}""", "the post_processor 'BertProcessing' adds tokens around every text")]
    [InlineData("""{"type": "RobertaProcessing"}""", "the post_processor 'RobertaProcessing' adds tokens")]
    [InlineData("""{"type": "AddEverything"}""", "the post_processor type 'AddEverything' is not supported")]
    [InlineData("""{"kind": "TemplateProcessing"}""", "the post_processor {\"kind\":\"TemplateProcessing\"} has no \"type\"")]
    [InlineData("""7""", "the post_processor 7 has no \"type\"")]
    [InlineData("""{"type": "Sequence", "processors": {}}""", "the post_processor Sequence has no \"processors\" array")]
    [InlineData("""{"type": "TemplateProcessing", "single": "$A"}""", "TemplateProcessing has no \"single\" array")]
    [InlineData("""{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]}""", "the post_processor template adds '<s>', which is not in the vocabulary")]
    [InlineData("""{"type": "TemplateProcessing", "single": [7]}""", "the post_processor template item 7 is neither")]
    public void PostProcessorsThatWouldAddTokensDifferentlyAreRefused(string json, string fragment)
    {
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document["post_processor"] = JsonDocument.Parse(json).RootElement;
        Assert.Contains(fragment, LoadFails(directory, Serialize(document)).Message);
    }

    [Fact]
    public void ATemplateInsideASequenceAddsItsTokensAsHuggingFaceDoes()
    {
        // Llama 3.1's layout: Sequence [ByteLevel, TemplateProcessing] with the BOS before the text.
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document["post_processor"] = JsonDocument.Parse("""
            {"type": "Sequence", "processors": [
              {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
              {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}]}
            """).RootElement;
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, Serialize(document));
        Assert.Equal([257, 256, 99], Tokenizer.Load(path).Encode("abc", addSpecialTokens: true));
    }

    [Theory]
    [InlineData("""{"type": "WordPiece", "prefix": "##"}""", "the decoder 'WordPiece' is not applied")]
    [InlineData("""{"type": "Unheard"}""", "the decoder type 'Unheard' is not a Hugging Face decoder; it is ignored")]
    [InlineData("""{"type": "Sequence", "decoders": [{"type": "ByteLevel"}, {"type": 3}]}""", "a decoder step {\"type\":3} has no \"type\"")]
    [InlineData("""[1, 2]""", "a decoder step [1,2] has no \"type\"")]
    public void DecodersThatAreNotAppliedLoadWithAWarning(string json, string warning)
    {
        // A decoder changes no token id, so the file loads; what is not applied is said, not hidden.
        using var directory = new TempDirectory();
        var document = ValidDocument();
        document["decoder"] = JsonDocument.Parse(json).RootElement;
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, Serialize(document));
        var tokenizer = Tokenizer.Load(path);
        Assert.Contains(tokenizer.Vocabulary.Warnings, line => line.Contains(warning));
        Assert.Equal([256, 99], tokenizer.Encode("abc"));
    }

    [Fact]
    public void TheRealTokenizersLoadWithoutWarnings()
    {
        foreach (string name in new[] { "llama2", "llama3", "qwen3" })
        {
            Assert.Empty(Fixtures.Json(name).Vocabulary.Warnings);
        }
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
