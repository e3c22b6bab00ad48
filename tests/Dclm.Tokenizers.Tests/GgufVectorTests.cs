namespace Dclm.Tokenizers.Tests;

/// <summary>Every llama.cpp test vector must encode exactly, and decode back to its text.</summary>
public class GgufVectorTests
{
    [Theory]
    [InlineData("gpt-2")]
    [InlineData("gpt-neox-20b")]
    [InlineData("llama-spm")]
    public void EncodesEveryVectorExactly(string name)
    {
        var tokenizer = Fixtures.Gguf(name);
        var cases = VocabularyTestVectors.Read(name);
        Assert.Equal(46, cases.Count);
        var failures = new List<string>();
        foreach (var (text, expected) in cases)
        {
            int[] actual = tokenizer.Encode(text);
            if (!actual.SequenceEqual(expected))
            {
                failures.Add($"{Escape(text)}: expected [{string.Join(' ', expected)}] got [{string.Join(' ', actual)}]");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("gpt-2")]
    [InlineData("gpt-neox-20b")]
    [InlineData("llama-spm")]
    public void DecodesEveryVectorBackToItsText(string name)
    {
        var tokenizer = Fixtures.Gguf(name);
        foreach (var (text, expected) in VocabularyTestVectors.Read(name))
        {
            // The dummy prefix is removed again, so even leading spaces come back exactly.
            Assert.Equal(text, tokenizer.Decode(expected));
        }
    }

    internal static string Escape(string text) =>
        "\"" + text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r") + "\"";
}
