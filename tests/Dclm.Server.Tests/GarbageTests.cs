using System.Text;
using System.Text.Json;

namespace Dclm.Server.Tests;

/// <summary>A thousand requests of mixed garbage leave the server healthy, with flat memory, and every well-formed request answered.</summary>
[Collection("server")]
public sealed class GarbageTests(ServerFixture fixture)
{
    private static readonly string[] Malformed =
    [
        "{", "}", "nul", "{\"prompt\": \"a\",}", "{\"prompt\": \"a\" \"max_tokens\": 2}", "\u0000\u0001\u0002", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "{\"prompt\": 1e999999}", "{\"max_tokens\": 18446744073709551616, \"prompt\": \"x\"}", "{\"max_tokens\": -2147483649, \"prompt\": \"x\"}",
        "{\"prompt\": \"x\", \"max_tokens\": -5}", "{\"prompt\": \"x\", \"temperature\": -1}", "{\"prompt\": \"x\", \"temperature\": \"hot\"}", "{\"prompt\": \"x\", \"seed\": 1.5}",
        "{\"prompt\": \"x\", \"top_k\": -3}", "{\"prompt\": true}", "{\"prompt\": [\"a\", 2]}", "{\"prompt\": \"x\", \"stream\": \"yes\"}", "{\"prompt\": \"x\", \"stop\": [1, 2]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "{\"messages\": [null]}", "{\"messages\": [{\"content\": \"no role\"}]}",
        "{\"prompt\": \"x\", \"stream_options\": 7}", "{\"prompt\": \"x\", \"min_p\": 2}",
    ];

    [Fact]
    public async Task AThousandGarbageRequestsLeaveTheServerHealthy()
    {
        using var gate = new SemaphoreSlim(8);
        int answered = 0, wellFormed = 0;
        long baseline = 0;
        string hugeBody = "{\"prompt\": \"" + new string('x', 10 << 20) + "\"}";

        async Task One(int i)
        {
            await gate.WaitAsync();
            try
            {
                int kind = i % 10;
                if (kind == 0)
                {
                    // Well-formed: must be answered with text.
                    var (status, body) = await fixture.PostAsync(i % 20 == 0 ? "/v1/chat/completions" : "/v1/completions", i % 20 == 0
                        ? $$"""{"messages": [{"role": "user", "content": "hello {{i}}"}], "max_tokens": 4, "temperature": 0}"""
                        : $$"""{"prompt": "number {{i}}", "max_tokens": 4}""");
                    Assert.Equal(200, status);
                    Assert.True(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
                    Interlocked.Increment(ref wellFormed);
                }
                else if (kind == 1)
                {
                    // A stream the client abandons after its first event.
                    using var cancel = new CancellationTokenSource();
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = ServerFixture.Json("""{"prompt": "Tell a long story", "max_tokens": 200, "stream": true}""") };
                    using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
                    var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
                    int read = await stream.ReadAsync(new byte[64], cancel.Token);
                    Assert.True(read > 0);
                    cancel.Cancel();
                }
                else if (kind == 2 && i % 100 == 2)
                {
                    // A 10 MB body: refused with 413, or the connection is cut while it is still being sent.
                    try
                    {
                        using var response = await fixture.Client.PostAsync("/v1/completions", new StringContent(hugeBody, Encoding.UTF8, "application/json"));
                        Assert.Equal(413, (int)response.StatusCode);
                    }
                    catch (HttpRequestException) { }
                }
                else
                {
                    string body = Malformed[i * 7 % Malformed.Length];
                    string path = i % 3 == 0 ? "/v1/chat/completions" : "/v1/completions";
                    using var response = await fixture.Client.PostAsync(path, ServerFixture.Json(body));
                    Assert.InRange((int)response.StatusCode, 400, 499);
                    JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString();
                }
                Interlocked.Increment(ref answered);
            }
            finally
            {
                gate.Release();
            }
        }

        // Warm up, then take the memory baseline.
        await Task.WhenAll(Enumerable.Range(0, 100).Select(One));
        baseline = ManagedBytesAfterCollection();
        await Task.WhenAll(Enumerable.Range(100, 900).Select(One));

        Assert.Equal(1000, answered);
        Assert.Equal(100, wellFormed);
        using var health = await fixture.Client.GetAsync("/health");
        Assert.Equal(200, (int)health.StatusCode);
        // Abandoned streams end their sequences; nothing stays running or queued. The deadline is a ceiling
        // for a loaded machine, not a speed check: the poll ends as soon as the engine is idle.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (fixture.Server.Host.Engine!.Statistics.RunningSequences + fixture.Server.Host.Engine.Statistics.WaitingSequences > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, fixture.Server.Host.Engine!.Statistics.RunningSequences);
        long growth = ManagedBytesAfterCollection() - baseline;
        Assert.True(growth < 32L << 20, $"the managed heap grew by {growth >> 20} MiB over 900 garbage requests");
    }

    private static long ManagedBytesAfterCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(true);
    }
}
