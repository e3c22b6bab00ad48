using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>Server-sent events as OpenAI clients read them: <c>data: {json}\n\n</c> per chunk, then <c>data: [DONE]\n\n</c>.</summary>
internal sealed class SseWriter(HttpResponse response)
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public void Start()
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public async Task WriteAsync<T>(T chunk, JsonTypeInfo<T> type, CancellationToken cancellation)
    {
        await response.Body.WriteAsync(Prefix, cancellation);
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(chunk, type), cancellation);
        await response.Body.WriteAsync(Separator, cancellation);
        await response.Body.FlushAsync(cancellation);
    }

    public async Task DoneAsync(CancellationToken cancellation)
    {
        await response.Body.WriteAsync(Done, cancellation);
        await response.Body.FlushAsync(cancellation);
    }
}
