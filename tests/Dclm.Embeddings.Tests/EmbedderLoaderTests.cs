using Microsoft.Extensions.AI;

namespace Dclm.Embeddings.Tests;

public class EmbedderLoaderTests
{
    [Fact]
    public async Task TheGeneratorServesMicrosoftExtensionsAiCallers()
    {
        using IEmbeddingGenerator<string, Embedding<float>> generator = new EmbeddingGenerator(EmbedderLoader.Load("minilm"), ownsEmbedder: true);
        var embeddings = await generator.GenerateAsync(["first text", "second text"]);
        Assert.Equal(2, embeddings.Count);
        Assert.All(embeddings, e => Assert.Equal(384, e.Vector.Length));
        Assert.Equal("all-MiniLM-L6-v2", embeddings[0].ModelId);
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal(384, metadata!.DefaultModelDimensions);
        // One vector for one text, through the extension method most callers use.
        var single = await generator.GenerateVectorAsync("first text");
        Assert.Equal(embeddings[0].Vector.ToArray(), single.ToArray());
        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 128 }));
    }

    [Fact]
    public void AnOnnxExportWithItsConfigLoadsAsTheBuiltInModel()
    {
        string folder = Directory.CreateTempSubdirectory("dclm-onnx-bert-").FullName;
        try
        {
            var (model, vocabulary) = MiniLmPackage.ReadResources();
            File.WriteAllBytes(Path.Combine(folder, "model.onnx"), model);
            var error = Assert.Throws<FileNotFoundException>(() => EmbedderLoader.Load(folder));
            Assert.Contains("config.json", error.Message);
            File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "bert", "num_attention_heads": 12, "layer_norm_eps": 1e-12, "max_position_embeddings": 512}""");
            File.WriteAllText(Path.Combine(folder, "sentence_bert_config.json"), """{"max_seq_length": 256}""");
            File.WriteAllBytes(Path.Combine(folder, "vocab.txt"), vocabulary);
            using var fromFile = EmbedderLoader.Load(Path.Combine(folder, "model.onnx"));
            using var builtIn = EmbedderLoader.Load("minilm");
            string[] texts = ["a sentence to compare", "another one"];
            Assert.Equal(builtIn.Embed(texts), fromFile.Embed(texts));
            Assert.Equal(256, fromFile.MaxTokens);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("not an onnx model at all")]
    [InlineData("")]
    public void ACorruptModelIsAnErrorNamingTheFile(string content)
    {
        string folder = Directory.CreateTempSubdirectory("dclm-onnx-bad-").FullName;
        try
        {
            string path = Path.Combine(folder, "broken.onnx");
            File.WriteAllText(path, content);
            File.WriteAllText(Path.Combine(folder, "config.json"), """{"num_attention_heads": 12}""");
            File.WriteAllText(Path.Combine(folder, "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
            var error = Assert.Throws<InvalidDataException>(() => EmbedderLoader.Load(path));
            Assert.Contains("broken.onnx", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AnUnknownNameIsAnErrorNamingIt()
    {
        var error = Assert.Throws<FileNotFoundException>(() => EmbedderLoader.Load("no-such-model"));
        Assert.Contains("no-such-model", error.Message);
    }
}
