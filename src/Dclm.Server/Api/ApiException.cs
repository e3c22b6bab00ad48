using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>A request the API refuses, answered as an OpenAI-style JSON error with <see cref="Status"/>.</summary>
internal sealed class ApiException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public string Type => Status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "invalid_request_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public static ApiException BadRequest(string message, string? param = null) => new(StatusCodes.Status400BadRequest, message, param);

    public static async Task WriteAsync(HttpContext context, int status, string message, string type, string? param, string? code)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        byte[] body = ErrorBody(message, type, param, code);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>OpenAI's error object, <c>{"error": {"message", "type", "param", "code"}}</c>, as UTF-8 JSON.</summary>
    public static byte[] ErrorBody(string message, string type, string? param = null, string? code = null) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            new ErrorResponseDto { Error = new ErrorBodyDto { Message = message, Type = type, Param = param, Code = code } },
            ApiJsonContext.Default.ErrorResponseDto);

    public Task WriteAsync(HttpContext context) => WriteAsync(context, Status, Message, Type, Param, Code);
}
