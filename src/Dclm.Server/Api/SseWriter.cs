using System.Buffers;
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

    /// <summary>One event, serialized straight into the response's pipe and flushed (one flush per token, no per-chunk array).</summary>
    public async Task WriteAsync<T>(T chunk, JsonTypeInfo<T> type, CancellationToken cancellation)
    {
        var pipe = response.BodyWriter;
        pipe.Write(Prefix);
        using (var json = new Utf8JsonWriter(pipe)) JsonSerializer.Serialize(json, chunk, type);
        pipe.Write(Separator);
        await pipe.FlushAsync(cancellation);
    }

    public async Task DoneAsync(CancellationToken cancellation)
    {
        response.BodyWriter.Write(Done);
        await response.BodyWriter.FlushAsync(cancellation);
    }
}
