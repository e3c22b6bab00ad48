using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Server.Tests;

[Collection("server")]
public sealed class LogprobsTests(ServerFixture fixture)
{
    [Fact]
    public async Task CompletionLogprobsAreTheModelsLogSoftmaxOfEachGeneratedToken()
    {
        var (status, body) = await fixture.PostAsync("/v1/completions", """{"prompt": [5, 17, 99], "max_tokens": 6, "temperature": 0, "logprobs": 3}""");
        Assert.Equal(200, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        int generated = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(generated, tokenLogprobs.Length);
        Assert.Equal(generated, logprobs.GetProperty("tokens").GetArrayLength());

        // Independent check: run the model over prompt + generated ids and take log-softmax in double.
        using var loaded = ModelLoader.Load(TinyModel.Path);
        var model = loaded.Model;
        int vocabulary = model.Config.VocabularySize;
        // Greedy ids of the same request, from the engine alone.
        var engine = fixture.Server.Host.Engine!;
        var result = await engine.Submit(engine.CreateRequest([5, 17, 99], Dclm.Inference.SamplingOptions.Greedy with { MaxTokens = 6 })).CollectAsync();
        int[] sequence = [5, 17, 99, .. result.TokenIds];
        var cache = model.CreateCache();
        var logits = new float[sequence.Length * vocabulary];
        model.Forward(ForwardBatch.Sequence(sequence, 0, allLogits: true), cache, logits);
        for (int i = 0; i < generated; i++)
        {
            var row = logits.AsSpan((2 + i) * vocabulary, vocabulary).ToArray();
            double max = row.Max();
            double log = max + Math.Log(row.Sum(l => Math.Exp(l - max)));
            Assert.Equal(row[sequence[3 + i]] - log, tokenLogprobs[i], 1e-3);
            // Greedy: the chosen token is the best alternative, and the alternatives are sorted.
            var top = logprobs.GetProperty("top_logprobs")[i].EnumerateObject().Select(p => p.Value.GetSingle()).ToArray();
            Assert.Equal(3, top.Length);
            Assert.Equal(top.Max(), tokenLogprobs[i], 1e-5);
            Assert.True(top.Sum(v => Math.Exp(v)) <= 1.0001);
        }
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(0, offsets[0]);
        Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.First <= p.Second));
    }

    [Fact]
    public async Task ChatLogprobsCarryBytesAndAlternativesWholeAndStreamed()
    {
        const string Request = """{"messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 5, "temperature": 0, "logprobs": true, "top_logprobs": 2""";
        var (status, body) = await fixture.PostAsync("/v1/chat/completions", Request + "}");
        Assert.Equal(200, status);
        var content = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.Equal(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), content.GetArrayLength());
        foreach (var entry in content.EnumerateArray())
        {
            Assert.Equal(2, entry.GetProperty("top_logprobs").GetArrayLength());
            Assert.True(entry.GetProperty("bytes").GetArrayLength() > 0);
            Assert.True(entry.GetProperty("logprob").GetSingle() <= 0);
        }

        var events = await fixture.StreamAsync("/v1/chat/completions", Request + ", \"stream\": true}");
        var streamed = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0])
            .Where(c => c.TryGetProperty("logprobs", out var l) && l.ValueKind == JsonValueKind.Object)
            .SelectMany(c => c.GetProperty("logprobs").GetProperty("content").EnumerateArray())
            .Select(e => (e.GetProperty("token").GetString(), e.GetProperty("logprob").GetSingle())).ToList();
        var whole = content.EnumerateArray().Select(e => (e.GetProperty("token").GetString(), e.GetProperty("logprob").GetSingle())).ToList();
        Assert.Equal(whole, streamed);
    }

    [Fact]
    public async Task EchoWithLogprobsScoresEveryPromptTokenAfterTheFirst()
    {
        // The loglikelihood request of evaluation harnesses: echo, logprobs, no new tokens.
        int[] prompt = [5, 17, 99, 3, 250, 41, 7, 12, 8, 600, 33, 2, 19, 71, 5, 17, 99, 3, 250, 41];
        // The same prompt in the prefix cache first: a scored prompt must still run every position.
        Assert.Equal(200, (await fixture.PostAsync("/v1/completions", $$"""{"prompt": [{{string.Join(",", prompt)}}], "max_tokens": 1}""")).Status);
        var (status, body) = await fixture.PostAsync("/v1/completions", $$"""{"prompt": [{{string.Join(",", prompt)}}], "max_tokens": 0, "echo": true, "logprobs": 2}""");
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(prompt.Length, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        var scores = logprobs.GetProperty("token_logprobs");
        Assert.Equal(JsonValueKind.Null, scores[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, logprobs.GetProperty("top_logprobs")[0].ValueKind);

        // Independent check: log-softmax in double of the model's own logits at each position.
        using var loaded = ModelLoader.Load(TinyModel.Path);
        var model = loaded.Model;
        int vocabulary = model.Config.VocabularySize;
        var logits = new float[prompt.Length * vocabulary];
        model.Forward(ForwardBatch.Sequence(prompt, 0, allLogits: true), model.CreateCache(), logits);
        for (int i = 1; i < prompt.Length; i++)
        {
            var row = logits.AsSpan((i - 1) * vocabulary, vocabulary).ToArray();
            double max = row.Max();
            double log = max + Math.Log(row.Sum(l => Math.Exp(l - max)));
            Assert.Equal(row[prompt[i]] - log, scores[i].GetSingle(), 1e-3);
            Assert.Equal(2, logprobs.GetProperty("top_logprobs")[i].EnumerateObject().Count());
        }
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(0, offsets[0]);
        Assert.Equal(choice.GetProperty("text").GetString()!.Length, offsets[^1] + logprobs.GetProperty("tokens")[prompt.Length - 1].GetString()!.Length);
    }

    [Fact]
    public async Task EchoWithLogprobsListsPromptThenGeneratedTokensWholeAndStreamed()
    {
        const string Request = """{"prompt": "The cat sat on", "max_tokens": 4, "temperature": 0, "echo": true, "logprobs": 1""";
        var (status, body) = await fixture.PostAsync("/v1/completions", Request + "}");
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.StartsWith("The cat sat on", choice.GetProperty("text").GetString());
        int promptTokens = body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        int generated = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        var whole = choice.GetProperty("logprobs");
        Assert.Equal(promptTokens + generated, whole.GetProperty("tokens").GetArrayLength());
        Assert.Equal("The cat sat on".Length, whole.GetProperty("text_offset")[promptTokens].GetInt32());

        var events = await fixture.StreamAsync("/v1/completions", Request + ", \"stream\": true}");
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).Where(e => e.GetProperty("choices").GetArrayLength() > 0)
            .Select(e => e.GetProperty("choices")[0]).ToList();
        Assert.Equal("The cat sat on", chunks[0].GetProperty("text").GetString());
        var streamed = chunks.Where(c => c.GetProperty("logprobs").ValueKind == JsonValueKind.Object)
            .SelectMany(c => c.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray())
            .Select(e => e.ValueKind == JsonValueKind.Null ? (float?)null : e.GetSingle()).ToList();
        var expected = whole.GetProperty("token_logprobs").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? (float?)null : e.GetSingle()).ToList();
        Assert.Equal(expected, streamed);
    }

    [Theory]
    [InlineData("/v1/completions", """{"prompt": "hi", "logprobs": 6}""", "logprobs")]
    [InlineData("/v1/completions", """{"prompt": "hi", "logprobs": true}""", "logprobs")]
    [InlineData("/v1/completions", """{"prompt": "hi", "max_tokens": 0}""", "max_tokens")]
    [InlineData("/v1/completions", """{"prompt": "hi", "max_tokens": -1, "echo": true, "logprobs": 0}""", "max_tokens")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21}""", "top_logprobs")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}""", "top_logprobs")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "logprobs": "yes"}""", "logprobs")]
    public async Task BadLogprobRequestsNameTheirField(string path, string json, string field)
    {
        var (status, body) = await fixture.PostAsync(path, json);
        Assert.Equal(400, status);
        Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
    }
}
