using System.Net;
using System.Text.Json;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

public class QueueLimitTests
{
    [Fact]
    public async Task AFullQueueAnswers429WithAnOpenAiErrorAndTheServerRecovers()
    {
        var options = ServerFixture.Options() with
        {
            Engine = new EngineOptions { MaxRunningSequences = 1, MaxWaitingRequests = 1, ContextLength = 256, PrefixCacheEntries = 0 },
        };
        await using var server = await DclmServer.StartAsync(options);
        await server.Host.Loading;
        var engine = server.Host.Engine!;
        using var client = new HttpClient { BaseAddress = server.Address };
        var sampling = SamplingOptions.Greedy with { MaxTokens = 240, StopAtEndOfSequence = false };

        // One long sequence runs and a second waits, so the one waiting place is taken. The tiny model
        // may finish both before the HTTP request lands; then the attempt is repeated.
        JsonElement? refusal = null;
        for (int attempt = 0; attempt < 10 && refusal is null; attempt++)
        {
            // The first token means the running sequence holds the one slot; only then can the second wait.
            await using var running = engine.Submit(engine.CreateRequest([1, 2, 3], sampling)).GetAsyncEnumerator();
            Assert.True(await running.MoveNextAsync());
            var waiting = engine.Submit(engine.CreateRequest([4, 5, 6], sampling));
            using var response = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "hello", "max_tokens": 4}"""));
            string body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refusal = JsonDocument.Parse(body).RootElement.Clone();
            else Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            while (await running.MoveNextAsync()) { }
            await waiting.CollectAsync();
        }

        Assert.NotNull(refusal);
        var error = refusal.Value.GetProperty("error");
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal("queue_full", error.GetProperty("code").GetString());
        Assert.Contains("busy", error.GetProperty("message").GetString());
        // Once the queue drains, requests are served again.
        using var after = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "hello", "max_tokens": 4}"""));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
