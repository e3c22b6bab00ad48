using Dclm.Tokenizers;

namespace Dclm.Oracle.Tests;

/// <summary>Both tokenizers, loaded once from the llama-spm vocabulary GGUF.</summary>
public sealed class LlamaSpmTokenizers : IDisposable
{
    public Tokenizer Ours { get; } = Tokenizer.Load(LlamaFiles.VocabularyPath);
    public LlamaCppModel LlamaCpp { get; } = LlamaCppModel.LoadVocabulary(LlamaFiles.VocabularyPath);

    public void Dispose() => LlamaCpp.Dispose();
}

/// <summary>Our SentencePiece-style tokenizer against llama.cpp's, both reading the same GGUF metadata.</summary>
public sealed class TokenizerCrossCheckTests(LlamaSpmTokenizers tokenizers) : IClassFixture<LlamaSpmTokenizers>
{
    public static TheoryData<string> Texts => new()
    {
        "",
        " ",
        "  ",
        "Hello world",
        " Hello world",
        "Hello\n\nworld\t tabs  and   spaces",
        "The year 2024 had 366 days; π ≈ 3.14159.",
        "naïve café Ünïcödé",
        "日本語のテキストと中文",
        "Ελληνικά и русский",
        "emoji 🙂🚀 and a rare symbol 𝔘",
        "<s> and </s> are plain text when special tokens are not parsed",
        "def f(x):\n    return x ** 2  # square\n",
        "\u00a0non-breaking\u2009thin space",
        "ALL CAPS, MiXeD cAsE, and snake_case_identifiers",
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void EncodingEqualsLlamaCpp(string text)
    {
        int[] expected = tokenizers.LlamaCpp.Tokenize(text);
        int[] actual = tokenizers.Ours.Encode(text, addSpecialTokens: false, parseSpecialTokens: false);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void LlamaCppReadsTheVocabularyWeCopy()
    {
        Assert.Equal(tokenizers.Ours.VocabularySize, tokenizers.LlamaCpp.VocabularySize);
        Assert.NotEmpty(tokenizers.LlamaCpp.Tokenize("Hello world"));
    }
}
