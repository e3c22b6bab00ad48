using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

/// <summary>One real server on a free loopback port, serving the tiny model, shared by the HTTP tests.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public DclmServer Server { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string ModelId => Server.Host.ModelId;

    public static ServerOptions Options(string? apiKey = null) => new()
    {
        ModelPath = TinyModel.Path, Host = "127.0.0.1", Port = 0, ApiKey = apiKey, Threads = 1,
        Engine = new EngineOptions { MaxRunningSequences = 8, ContextLength = 256, MaxWaitingRequests = 256 },
    };

    public async Task InitializeAsync()
    {
        Server = await DclmServer.StartAsync(Options());
        await Server.Host.Loading;
        Client = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var response = await Client.PostAsync(path, Json(json));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Posts a streaming request and returns each SSE data payload in order, [DONE] included.</summary>
    public Task<List<string>> StreamAsync(string path, string json) => StreamAsync(Client, path, json);

    /// <summary>Posts a streaming request through <paramref name="client"/> and returns each SSE data payload in order, [DONE] included.</summary>
    public static async Task<List<string>> StreamAsync(HttpClient client, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(json) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        return events.Select(e => e["data: ".Length..]).ToList();
    }
}

// Not run beside other collections: GarbageTests measures the process's managed heap, which any concurrent test disturbs.
[CollectionDefinition("server", DisableParallelization = true)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>;
