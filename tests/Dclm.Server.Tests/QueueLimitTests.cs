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

        // One long sequence runs and a second waits, so the one waiting place is taken when the HTTP request lands: the
        // engine is held before its second step (the first admitted the running sequence) until the answer is in.
        using var held = new ManualResetEventSlim(false);
        using var answered = new ManualResetEventSlim(false);
        long? firstStep = null;
        engine.BeforeStep = steps =>
        {
            firstStep ??= steps;
            if (steps != firstStep + 1) return;
            held.Set();
            Assert.True(answered.Wait(TimeSpan.FromMinutes(1)), "the test never got its answer");
        };
        await using var running = engine.Submit(engine.CreateRequest([1, 2, 3], sampling)).GetAsyncEnumerator();
        Assert.True(held.Wait(TimeSpan.FromMinutes(5)), "the engine never ran the first step");
        var waiting = engine.Submit(engine.CreateRequest([4, 5, 6], sampling));
        HttpStatusCode status;
        string body;
        using (var response = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "hello", "max_tokens": 4}""")))
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
        answered.Set();
        while (await running.MoveNextAsync()) { }
        await waiting.CollectAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").Clone();
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal("queue_full", error.GetProperty("code").GetString());
        Assert.Contains("busy", error.GetProperty("message").GetString());
        // Once the queue drains, requests are served again.
        using var after = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "hello", "max_tokens": 4}"""));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
