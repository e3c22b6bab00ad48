namespace Dclm.Tokenizers.Tests;

/// <summary>Special tokens, BOS/EOS, id lookups and decoding on the fixture vocabularies.</summary>
public class TokenizerBehaviourTests
{
    [Fact]
    public void NeoXVocabularyHasDclmShape()
    {
        var tokenizer = Fixtures.Gguf("gpt-neox-20b");
        Assert.Equal(50432, tokenizer.VocabularySize);
        Assert.Equal("<|endoftext|>", tokenizer.TokenText(0));
        Assert.Equal(0, tokenizer.BeginningOfSequenceId);
        Assert.Equal(0, tokenizer.EndOfSequenceId);
        Assert.False(tokenizer.AddBeginningOfSequence);
        // So a DCLM prompt starts with its text, not <|endoftext|>.
        Assert.Equal(tokenizer.Encode("Hello world"), tokenizer.EncodePrompt("Hello world"));
        Assert.True(tokenizer.IsControl(0));
        Assert.False(tokenizer.IsControl(12092));
        Assert.Equal(TokenType.UserDefined, tokenizer.GetTokenType(50276));
        Assert.True(tokenizer.TryGetId("Ġthe", out int the));
        Assert.Equal(" the", tokenizer.Decode([the]));
        Assert.False(tokenizer.TryGetId("no such piece", out _));
    }

    [Fact]
    public void ControlTokensInTextAreParsedOnlyWhenAsked()
    {
        var tokenizer = Fixtures.Gguf("gpt-neox-20b");
        int[] parsed = tokenizer.Encode("Hello<|endoftext|>world", parseSpecialTokens: true);
        Assert.Equal([12092, 0, 10186], parsed);
        int[] literal = tokenizer.Encode("Hello<|endoftext|>world");
        Assert.DoesNotContain(0, literal);
        Assert.Equal("Hello<|endoftext|>world", tokenizer.Decode(literal));
        Assert.Equal("Helloworld", tokenizer.Decode(parsed, skipSpecialTokens: true));
    }

    [Fact]
    public void SentencePieceAddsBeginningOfSequenceOnlyWithSpecialTokens()
    {
        var tokenizer = Fixtures.Gguf("llama-spm");
        Assert.True(tokenizer.AddBeginningOfSequence);
        Assert.Equal([15043, 3186], tokenizer.Encode("Hello world"));
        Assert.Equal([1, 15043, 3186], tokenizer.Encode("Hello world", addSpecialTokens: true));
        Assert.Equal([1], tokenizer.Encode("", addSpecialTokens: true));
        // A completion prompt starts the same way (ids from llama.cpp's tokenizer), and writes a control token as text.
        Assert.Equal([1, 15043, 3186], tokenizer.EncodePrompt("Hello world"));
        Assert.Equal([1, .. tokenizer.Encode("</s>")], tokenizer.EncodePrompt("</s>"));
        Assert.DoesNotContain(2, tokenizer.EncodePrompt("</s>"));
        // As in Hugging Face and llama.cpp, only a space at the very start of the decoded text is dropped.
        Assert.Equal("<s> Hello world", tokenizer.Decode([1, 15043, 3186]));
        Assert.Equal("Hello world", tokenizer.Decode([1, 15043, 3186], skipSpecialTokens: true));
    }

    [Fact]
    public void SentencePieceSpecialTokensSplitTextAndRestartTheDummyPrefix()
    {
        var tokenizer = Fixtures.Gguf("llama-spm");
        // Each text fragment after a special token gets its own '▁' prefix, as in llama.cpp and Hugging Face.
        Assert.Equal([15043, 2, 3186], tokenizer.Encode("Hello</s>world", parseSpecialTokens: true));
    }

    [Fact]
    public void ByteFallbackTokensDecodeToRawBytes()
    {
        var tokenizer = Fixtures.Gguf("llama-spm");
        int[] ids = tokenizer.Encode("🦙");
        Assert.Equal([29871, 243, 162, 169, 156], ids);
        Assert.Equal("🦙", tokenizer.Decode(ids));
        Assert.Equal(new byte[] { 0xF0 }, tokenizer.TokenBytes(243).ToArray());
        Assert.Equal("\uFFFD", tokenizer.Decode([243]));
    }

    [Theory]
    [InlineData("gpt-2")]
    [InlineData("gpt-neox-20b")]
    [InlineData("llama-spm")]
    public void DecodeRejectsIdsOutsideTheVocabulary(string name)
    {
        var tokenizer = Fixtures.Gguf(name);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([tokenizer.VocabularySize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenText(tokenizer.VocabularySize));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.CreateStreamingDecoder().Append(int.MaxValue));
    }

    [Fact]
    public void EncodingFromManyThreadsGivesTheSameIds()
    {
        var tokenizer = Fixtures.Gguf("gpt-neox-20b");
        var texts = VocabularyTestVectors.Read("gpt-neox-20b");
        var results = new int[texts.Count * 8][];
        Parallel.For(0, results.Length, index => results[index] = tokenizer.Encode(texts[index % texts.Count].Text));
        for (int index = 0; index < results.Length; index++)
        {
            Assert.Equal(texts[index % texts.Count].Ids, results[index]);
        }
    }

    [Fact]
    public void Llama3JsonKeepsSpecialTokensWhole()
    {
        var tokenizer = Fixtures.Json("llama3");
        Assert.Equal(128256, tokenizer.VocabularySize);
        Assert.True(tokenizer.TryGetId("<|begin_of_text|>", out int begin));
        Assert.True(tokenizer.IsControl(begin));
        Assert.Equal("<|begin_of_text|>Hi", tokenizer.Decode(tokenizer.Encode("<|begin_of_text|>Hi", parseSpecialTokens: true)));
    }
}
