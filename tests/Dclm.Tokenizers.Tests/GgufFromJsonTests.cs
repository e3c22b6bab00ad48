using Dclm.Formats.Gguf;

namespace Dclm.Tokenizers.Tests;

/// <summary>
/// The Llama 3 and Qwen 3 vocabularies written into GGUF metadata the way llama.cpp's converter does
/// (pre-tokenizer names "llama-bpe" and "qwen2") must encode the reference strings exactly as the
/// tokenizer.json does, which exercises the GGUF loader's pattern selection, ignore_merges and NFC.
/// </summary>
public class GgufFromJsonTests
{
    [Theory]
    [InlineData("llama3", "llama-bpe")]
    [InlineData("qwen3", "qwen2")]
    public void GgufCopyEncodesLikeTheReference(string name, string preTokenizer)
    {
        var vocabulary = Fixtures.Json(name).Vocabulary;
        var writer = new GgufWriter();
        writer.AddString("general.architecture", "llama");
        writer.AddString("tokenizer.ggml.model", "gpt2");
        writer.AddString("tokenizer.ggml.pre", preTokenizer);
        writer.AddStringArray("tokenizer.ggml.tokens", vocabulary.Tokens);
        writer.AddInt32Array("tokenizer.ggml.token_type", vocabulary.TokenTypes.Select(type => (int)type).ToArray());
        writer.AddStringArray("tokenizer.ggml.merges", vocabulary.Merges.Select(merge => merge.ToString()).ToArray());
        using var directory = new TempDirectory();
        string path = directory.File(name + ".gguf");
        writer.Write(path);

        var tokenizer = Tokenizer.Load(path);
        var failures = new List<string>();
        foreach (var (text, expected) in JsonVectorTests.ReferenceCases(name))
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
