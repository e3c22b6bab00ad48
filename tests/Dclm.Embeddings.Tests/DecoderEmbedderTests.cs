using Dclm.Checkpoints;
using Dclm.Models;
using Dclm.TestSupport;

namespace Dclm.Embeddings.Tests;

public class DecoderEmbedderTests
{
    /// <summary>
    /// A text is embedded from exactly the ids a completion prompt of it starts with (<c>Tokenizer.EncodePrompt</c>): with
    /// Llama's SentencePiece vocabulary, which asks for a beginning-of-sequence id, and GPT-NeoX's, which does not.
    /// </summary>
    [Theory]
    [InlineData("llama-spm.vocab.gguf", 32000, true)]
    [InlineData("gpt-neox-20b.vocab.gguf", 50432, false)]
    public void ATextIsFramedAsTheTokenizerStartsAPrompt(string vocabulary, int vocabularySize, bool addsBeginning)
    {
        string directory = Directory.CreateTempSubdirectory("dclm-decoder-embedder-").FullName;
        try
        {
            string path = TinyNeoXModels.Write(directory, ModelConfig.OpenLm(dim: 32, layers: 1, heads: 2, vocabularySize, contextLength: 64), seed: 1, weightScale: 0.1f,
                Path.Combine(AppContext.BaseDirectory, "fixtures", vocabulary));
            using var loaded = ModelLoader.Load(path);
            var tokenizer = loaded.RequireTokenizer();
            using var embedder = new DecoderEmbedder("tiny", loaded.Model, tokenizer, EmbeddingPooling.Mean, maxTokens: 64);
            const string text = "Embeddings start where prompts start.";
            Assert.Equal(tokenizer.EncodePrompt(text), embedder.Frame(embedder.Tokenize(text)));
            Assert.Equal(addsBeginning, embedder.SpecialTokenCount == 1);
            Assert.Equal(addsBeginning ? [tokenizer.BeginningOfSequenceId!.Value] : [], embedder.Frame([]));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
