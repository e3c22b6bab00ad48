using System.Text;
using Dclm.Inference;
using Dclm.TestSupport;
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
    public void RandomMixedTextEncodesLikeLlamaCpp()
    {
        // Fragments chosen to hit SentencePiece's edge cases: whitespace runs, byte fallback for characters
        // outside the vocabulary, combining marks, surrogate pairs, digits and punctuation glued to words.
        string[] fragments =
        [
            "the", " the", "The", "ing", " quick", "brown", "fox", "jumped", "over", "  ", "   ", "\n", "\n\n", "\t",
            " ", ".", ",", "!", "?", "'s", "\"", "(", ")", "[", "]", "{", "}", "-", "--", "_", "/", "\\", "#", "@",
            "0", "7", "42", "2024", "3.14", "1,000", "é", "ü", "ñ", "ß", "e\u0301", "日本", "語", "中文", "한국어",
            "Ελ", "лю", "עב", "عر", "हि", "🙂", "🚀", "👩‍💻", "𝔘", "\u00a0", "\u2009", "\u200b", "<s>", "</s>",
            "<unk>", "▁", "http://example.com", "snake_case", "CamelCase", "ALLCAPS", "x²", "½", "™", "€",
        ];
        const int Samples = 1000;
        var random = new SplitMix64(2024);
        var failures = new List<string>();
        for (int sample = 0; sample < Samples; sample++)
        {
            var text = new StringBuilder();
            int pieces = 1 + (int)(random.NextUInt64() % 12);
            for (int i = 0; i < pieces; i++) text.Append(fragments[random.NextUInt64() % (ulong)fragments.Length]);
            string value = text.ToString();
            int[] expected = tokenizers.LlamaCpp.Tokenize(value);
            int[] actual = tokenizers.Ours.Encode(value, addSpecialTokens: false, parseSpecialTokens: false);
            if (!expected.AsSpan().SequenceEqual(actual))
                failures.Add($"{System.Text.Json.JsonSerializer.Serialize(value)}: llama.cpp [{string.Join(' ', expected)}], ours [{string.Join(' ', actual)}]");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {Samples} texts differ:\n{string.Join('\n', failures.Take(10))}");
    }

    [Fact]
    public void LlamaCppReadsTheVocabularyWeCopy()
    {
        Assert.Equal(tokenizers.Ours.VocabularySize, tokenizers.LlamaCpp.VocabularySize);
        Assert.NotEmpty(tokenizers.LlamaCpp.Tokenize("Hello world"));
    }
}
