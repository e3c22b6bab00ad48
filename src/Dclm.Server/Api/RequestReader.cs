using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>
/// Reads a JSON body under a size limit into a DTO; anything wrong becomes an <see cref="ApiException"/>. Every
/// string in it is checked to be text first (<see cref="RequestText"/>), so no field read later can fail.
/// </summary>
internal static class RequestReader
{
    public static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type, long limit) where T : class
    {
        if (context.Request.ContentLength > limit)
            throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"the request body of {context.Request.ContentLength} bytes exceeds the limit of {limit} bytes");
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Grow only up to the limit, so an endless chunked body cannot take memory without bound.
                    if (length > limit) throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"the request body exceeds the limit of {limit} bytes");
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                int read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted);
                if (read == 0) break;
                length += read;
                if (length > limit) throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"the request body exceeds the limit of {limit} bytes");
            }
            if (length == 0) throw ApiException.BadRequest("the request body is empty; send a JSON object");
            RequestText.Check(buffer.AsSpan(0, length));
            try
            {
                return JsonSerializer.Deserialize(buffer.AsSpan(0, length), type)
                    ?? throw ApiException.BadRequest("the request body must be a JSON object, not null");
            }
            catch (JsonException e)
            {
                string where = string.IsNullOrEmpty(e.Path) ? "" : $" at {e.Path}";
                throw ApiException.BadRequest($"the request body is not valid JSON for this endpoint{where}: {FirstSentence(e.Message)}", ParamOf(e.Path));
            }
        }
        catch (BadHttpRequestException e)
        {
            throw new ApiException(e.StatusCode, $"the request body could not be read: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    private static string? ParamOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.TrimStart('$', '.').Split('.', '[')[0];
}
