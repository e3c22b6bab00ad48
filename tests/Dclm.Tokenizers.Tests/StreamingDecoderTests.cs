namespace Dclm.Tokenizers.Tests;

/// <summary>Streaming decoding must reproduce whole-sequence decoding while never emitting half a character.</summary>
public class StreamingDecoderTests
{
    [Theory]
    [InlineData("gpt-2")]
    [InlineData("gpt-neox-20b")]
    [InlineData("llama-spm")]
    public void ConcatenatedPiecesEqualWholeDecode(string name)
    {
        var tokenizer = Fixtures.Gguf(name);
        var decoder = tokenizer.CreateStreamingDecoder();
        foreach (var (text, ids) in VocabularyTestVectors.Read(name))
        {
            var streamed = new System.Text.StringBuilder();
            foreach (int id in ids)
            {
                string piece = decoder.Append(id);
                Assert.DoesNotContain('\uFFFD', piece);
                streamed.Append(piece);
            }
            streamed.Append(decoder.Flush());
            Assert.Equal(tokenizer.Decode(ids), streamed.ToString());
            Assert.Equal(text, streamed.ToString());
        }
    }

    [Fact]
    public void HoldsBackPartialCharactersUntilComplete()
    {
        var tokenizer = Fixtures.Gguf("llama-spm");
        var decoder = tokenizer.CreateStreamingDecoder();
        // "▁" then the four byte tokens of U+1F999.
        Assert.Equal("", decoder.Append(29871));
        Assert.Equal("", decoder.Append(243));
        Assert.Equal("", decoder.Append(162));
        Assert.Equal("", decoder.Append(169));
        Assert.Equal("🦙", decoder.Append(156));
        Assert.Equal(" Hello", decoder.Append(15043));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void FlushReturnsAnIncompleteCharacterAsReplacement()
    {
        var tokenizer = Fixtures.Gguf("llama-spm");
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(243));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal("Hello", decoder.Append(15043));
    }

    [Fact]
    public void ByteLevelEmojiSplitAcrossTokensIsHeldBack()
    {
        var tokenizer = Fixtures.Gguf("gpt-2");
        int[] ids = tokenizer.Encode("🦙");
        Assert.True(ids.Length > 1);
        var decoder = tokenizer.CreateStreamingDecoder();
        string[] pieces = ids.Select(decoder.Append).ToArray();
        Assert.All(pieces[..^1], piece => Assert.Equal("", piece));
        Assert.Equal("🦙", pieces[^1]);
    }
}
