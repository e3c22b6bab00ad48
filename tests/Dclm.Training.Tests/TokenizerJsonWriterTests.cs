using Dclm.Tokenizers;
using Dclm.Training.Checkpointing;

namespace Dclm.Training.Tests;

public class TokenizerJsonWriterTests
{
    [Fact]
    public void GptNeoXVocabularyFromGgufRoundTripsThroughTokenizerJson()
    {
        var original = Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"));
        string directory = TrainingFixtures.TemporaryDirectory();
        TokenizerJsonWriter.Write(directory, original.Vocabulary);
        var written = Tokenizer.Load(Path.Combine(directory, "tokenizer.json"));
        Assert.Equal(original.VocabularySize, written.VocabularySize);
        Assert.Equal(original.EndOfSequenceId, written.EndOfSequenceId);
        string[] samples =
        [
            TrainingFixtures.Text, "  leading spaces\tand tabs\n\nnew lines", "Ünïcödé café – naïve 東京 🙂", "<|endoftext|> special",
            "Mr. President, Mr. Speaker, Members of the Congress: 1,234.56 dollars in 1937's budget.",
        ];
        foreach (string text in samples)
        {
            Assert.Equal(original.Encode(text), written.Encode(text));
            Assert.Equal(original.Encode(text, parseSpecialTokens: true), written.Encode(text, parseSpecialTokens: true));
            Assert.Equal(text, written.Decode(written.Encode(text)));
        }
    }
}
