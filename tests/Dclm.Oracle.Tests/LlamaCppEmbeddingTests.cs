using Dclm.Checkpoints;
using Dclm.Embeddings;
using LLama.Native;
using Xunit.Abstractions;

namespace Dclm.Oracle.Tests;

/// <summary>
/// A decoder's embeddings (mean and last-token pooling of the final normed hidden states) against llama.cpp's
/// own (<c>llama_get_embeddings_seq</c> with embeddings on, what llama-server <c>--embeddings</c> returns before it
/// normalises), on the random Llama of the other oracle tests; ours embeds all prompts in one batched step.
/// </summary>
[Collection(OracleCollection.Name)]
public sealed class LlamaCppEmbeddingTests(OracleModels models, ITestOutputHelper output)
{
    [Theory]
    [InlineData(EmbeddingPooling.Mean, LLamaPoolingType.Mean)]
    [InlineData(EmbeddingPooling.Last, LLamaPoolingType.Last)]
    public void PooledHiddenStatesMatchLlamaCpp(EmbeddingPooling ours, LLamaPoolingType theirs)
    {
        using var llama = LlamaCppModel.Load(models.FlatF32Gguf);
        using var loaded = ModelLoader.Load(models.FlatF32Gguf);
        using var embedder = new DecoderEmbedder("flat", loaded.Model, loaded.RequireTokenizer(), ours, normalize: false);
        // Different lengths, so the packed batch holds sequences that end at different places.
        var inputs = models.Prompts.Select((p, i) => p[..(OracleModels.PromptLength - 37 * i)]).ToArray();
        var vectors = embedder.EmbedTokens(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            var expected = llama.Embedding(inputs[i], theirs);
            Assert.Equal(expected.Length, vectors[i].Length);
            double error = Logits.RelativeError(vectors[i], expected);
            output.WriteLine($"{ours} pooling, prompt {i} ({inputs[i].Length} tokens): max|ours − llama.cpp| / max|llama.cpp| = {error:E2}");
            Assert.True(error <= 1e-4, $"prompt {i}: relative error {error:E2}");
        }
        // Different prompts give different vectors.
        Assert.True(Logits.RelativeError(vectors[0], vectors[1]) > 1e-2);
    }
}
