using System.Net;
using System.Text;
using System.Text.Json;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

/// <summary>Every endpoint of the real server over loopback HTTP, streaming included.</summary>
[Collection("server")]
public sealed class HttpApiTests(ServerFixture fixture)
{
    private const string Greedy = "\"temperature\": 0";

    [Fact]
    public async Task FillInTheMiddleIsRefusedByNameForAVocabularyWithoutFimTokens()
    {
        // GPT-NeoX-20B's vocabulary has no prefix, suffix or middle token; llama-server's message names all three.
        foreach (var (path, body, field) in new[] { ("/infill", """{"input_prefix": "a", "input_suffix": "b"}""", "input_prefix"), ("/v1/completions", """{"prompt": "a", "suffix": "b"}""", "suffix") })
        {
            var (status, error) = await fixture.PostAsync(path, body);
            Assert.Equal(400, status);
            Assert.Equal(field, error.GetProperty("error").GetProperty("param").GetString());
            Assert.Equal("Infill is not supported by this model: prefix token is missing. suffix token is missing. middle token is missing.",
                error.GetProperty("error").GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task HealthModelsAndTokenizationAnswer()
    {
        using var health = await fixture.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var models = JsonDocument.Parse(await fixture.Client.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Equal(fixture.ModelId, models.GetProperty("data")[0].GetProperty("id").GetString());

        var (status, tokens) = await fixture.PostAsync("/tokenize", """{"prompt": "Hello world"}""");
        Assert.Equal(200, status);
        // GPT-NeoX-20B ids of "Hello world" (the published tokenizer's output).
        Assert.Equal([12092, 1533], tokens.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        var (status2, text) = await fixture.PostAsync("/detokenize", """{"tokens": [12092, 1533]}""");
        Assert.Equal(200, status2);
        Assert.Equal("Hello world", text.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task ACompletionStreamedEqualsTheSameCompletionWhole()
    {
        string request = $$"""{"model": "{{fixture.ModelId}}", "prompt": "The capital of France is", "max_tokens": 12, {{Greedy}}""";
        var (status, whole) = await fixture.PostAsync("/v1/completions", request + "}");
        Assert.Equal(200, status);
        Assert.Equal("text_completion", whole.GetProperty("object").GetString());
        var usage = whole.GetProperty("usage");
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        var events = await fixture.StreamAsync("/v1/completions", request + """, "stream": true, "stream_options": {"include_usage": true}}""");
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        string streamed = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), streamed);
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("finish_reason").GetString(),
            chunks.Select(c => c.GetProperty("choices")).Where(c => c.GetArrayLength() > 0).Last()[0].GetProperty("finish_reason").GetString());
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task LogitBiasSteersAndBansTokens()
    {
        // +100 on one token wins every step; -100 on the unbiased first token keeps it out.
        var (_, ids) = await fixture.PostAsync("/tokenize", """{"prompt": " Paris"}""");
        int paris = ids.GetProperty("tokens")[0].GetInt32();
        var (status, forced) = await fixture.PostAsync("/v1/completions", $$"""{"prompt": "The capital of France is", "max_tokens": 3, {{Greedy}}, "logit_bias": {"{{paris}}": 100} }""");
        Assert.Equal(200, status);
        Assert.Equal(" Paris Paris Paris", forced.GetProperty("choices")[0].GetProperty("text").GetString());

        var (_, plain) = await fixture.PostAsync("/v1/completions", $$"""{"prompt": "The capital of France is", "max_tokens": 1, {{Greedy}}}""");
        var (_, first) = await fixture.PostAsync("/tokenize", JsonSerializer.Serialize(new { prompt = plain.GetProperty("choices")[0].GetProperty("text").GetString() }));
        int greedy = first.GetProperty("tokens")[0].GetInt32();
        var (_, without) = await fixture.PostAsync("/v1/completions", $$"""{"prompt": "The capital of France is", "max_tokens": 1, {{Greedy}}, "logit_bias": {"{{greedy}}": -100} }""");
        var (_, withoutIds) = await fixture.PostAsync("/tokenize", JsonSerializer.Serialize(new { prompt = without.GetProperty("choices")[0].GetProperty("text").GetString() }));
        Assert.NotEqual(greedy, withoutIds.GetProperty("tokens")[0].GetInt32());

        foreach (string bad in new[] { """{"abc": 1}""", """{"5": 500}""", """{"5": "high"}""", """[5]""", """{"999999999": 1}""" })
        {
            var (refused, error) = await fixture.PostAsync("/v1/completions", $$"""{"prompt": "x", "max_tokens": 1, "logit_bias": {{bad}}}""");
            Assert.Equal(400, refused);
            Assert.Equal("logit_bias", error.GetProperty("error").GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task ChatStreamsRoleThenContentThenFinishThenUsage()
    {
        string request = $$"""{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi!"}]}], "max_tokens": 10, {{Greedy}}""";
        var (status, whole) = await fixture.PostAsync("/v1/chat/completions", request + "}");
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", whole.GetProperty("object").GetString());
        var message = whole.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());

        var events = await fixture.StreamAsync("/v1/chat/completions", request + """, "stream": true, "stream_options": {"include_usage": true}}""");
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var withChoices = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).ToList();
        Assert.Equal(JsonValueKind.Null, withChoices[0].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        Assert.False(string.IsNullOrEmpty(withChoices[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString()));
        string content = string.Concat(withChoices.Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal(message.GetProperty("content").GetString(), content);
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.True(chunks[^1].GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
        Assert.Equal("[DONE]", events[^1]);
    }

    [Fact]
    public async Task ASecondChatTurnReusesTheFirstTurnsCache()
    {
        string first = """{"role": "user", "content": "Tell me about the history of the city of Rome in a few words."}""";
        var (_, turn1) = await fixture.PostAsync("/v1/chat/completions", $$"""{"messages": [{{first}}], "max_tokens": 8, {{Greedy}}}""");
        string reply = turn1.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        string second = $$"""{"messages": [{{first}}, {"role": "assistant", "content": {{JsonSerializer.Serialize(reply)}}}, {"role": "user", "content": "And Milan?"}], "max_tokens": 8, {{Greedy}}}""";
        var (status, turn2) = await fixture.PostAsync("/v1/chat/completions", second);
        Assert.Equal(200, status);
        int firstPrompt = turn1.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        int cached = turn2.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        Assert.True(cached >= firstPrompt, $"only {cached} of the first turn's {firstPrompt} prompt tokens were reused");
        string metrics = await fixture.Client.GetStringAsync("/metrics");
        Assert.Matches(@"dclm_prefix_cache_hit_tokens_total [1-9]", metrics);
    }

    [Fact]
    public async Task MetricsExposeRequestsTokensLatencyQueueAndMemory()
    {
        await fixture.PostAsync("/v1/completions", """{"prompt": "Hello", "max_tokens": 3}""");
        string metrics = await fixture.Client.GetStringAsync("/metrics");
        foreach (string name in new[] { "dclm_requests_total", "dclm_prompt_tokens_total", "dclm_generated_tokens_total", "dclm_time_to_first_token_seconds_bucket",
            "dclm_time_per_output_token_seconds_bucket", "dclm_tokens_per_second", "dclm_queue_depth", "dclm_running_sequences", "dclm_kv_blocks_used",
            "dclm_prefix_cache_hit_tokens_total", "dclm_process_working_set_bytes" })
            Assert.Contains(name, metrics);
        Assert.Matches("dclm_requests_total\\{endpoint=\"/v1/completions\",status=\"200\"\\} [1-9]", metrics);
    }

    [Theory]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\"", 400, null)]
    [InlineData("/v1/completions", "[1, 2]", 400, null)]
    [InlineData("/v1/completions", "", 400, null)]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": \"ten\"}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 1e300}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 99999999999999999999}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": -1}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 100000}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"temperature\": 7}", 400, "temperature")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"top_p\": 0}", 400, "top_p")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"n\": 0}", 400, "n")]
    [InlineData("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 17}", 400, "n")]
    [InlineData("/v1/completions", "{\"prompt\": {\"a\": 1}}", 400, "prompt")]
    [InlineData("/v1/completions", "{\"prompt\": [1, 99999999]}", 400, "prompt")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"stop\": 5}", 400, "stop")]
    [InlineData("/v1/completions", "{\"prompt\": \"hi\", \"model\": \"gpt-4\"}", 404, "model")]
    [InlineData("/v1/chat/completions", "{\"messages\": \"hi\"}", 400, "messages")]
    [InlineData("/v1/chat/completions", "{\"messages\": []}", 400, "messages")]
    [InlineData("/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", 400, "messages")]
    [InlineData("/detokenize", "{\"tokens\": [-4]}", 400, "tokens")]
    [InlineData("/v1/nothing", "{}", 404, null)]
    public async Task BadRequestsGetOpenAiErrors(string path, string body, int status, string? param)
    {
        using var response = await fixture.Client.PostAsync(path, ServerFixture.Json(body));
        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task ABodyOverTheLimitIsRefusedWith413()
    {
        // With "Expect: 100-continue" (as curl sends for large bodies) the client waits for the server's
        // go-ahead, so the refusal arrives before any body byte is sent and no reset can race it.
        string body = "{\"prompt\": \"" + new string('a', 2 << 20) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await fixture.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ABodyWithoutALengthIsCutAtTheLimit()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("{\"prompt\": \"" + new string('a', 100_000) + "\"}"));
        var error = await Assert.ThrowsAsync<Dclm.Server.Api.ApiException>(() => Dclm.Server.Api.RequestReader.ReadAsync(context, Dclm.Server.Api.ApiJsonContext.Default.CompletionRequestDto, 4096));
        Assert.Equal(413, error.Status);
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("{\"prompt\": \"hi\"}"));
        var dto = await Dclm.Server.Api.RequestReader.ReadAsync(context, Dclm.Server.Api.ApiJsonContext.Default.CompletionRequestDto, 4096);
        Assert.Equal("hi", dto.Prompt.GetString());
    }

    [Fact]
    public async Task AnApiKeyIsRequiredWhenSetAndHealthStaysOpen()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options(apiKey: "s3cret"));
        await server.Host.Loading;
        using var client = new HttpClient { BaseAddress = server.Address };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/models")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/models")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
        Assert.False((await client.GetAsync("/v1/models")).Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task HealthAnswers503UntilAModelIsServed()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = "/nonexistent/model.gguf" });
        await Assert.ThrowsAnyAsync<Exception>(() => server.Host.Loading);
        using var client = new HttpClient { BaseAddress = server.Address };
        using var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var completion = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "hi"}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, completion.StatusCode);
    }

    [Fact]
    public async Task EightConcurrentStreamingClientsGetWhatEachGetsAlone()
    {
        string[] prompts = ["Alpha beta", "One two three", "The sun rises", "import numpy as", "Dear Sir,", "Roses are red,", "Once upon", "Fast cars"];
        string Request(string prompt) => $$"""{"prompt": {{JsonSerializer.Serialize(prompt)}}, "max_tokens": 16, "seed": 3, "temperature": 0.8, "stream": true}""";
        async Task<string> Text(string prompt) => string.Concat((await fixture.StreamAsync("/v1/completions", Request(prompt)))[..^1]
            .Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        var alone = new List<string>();
        foreach (string prompt in prompts) alone.Add(await Text(prompt));
        var together = await Task.WhenAll(prompts.Select(Text));
        Assert.Equal(alone, together);
    }
}
