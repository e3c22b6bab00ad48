using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Dclm.Server.Tests;

/// <summary>
/// Every client mistake over HTTP is a 4xx with an OpenAI-style JSON error: the shapes issue 23 found answered
/// 500 (invalid UTF-8, lone surrogates, schemas with a non-string type) or with an empty body (Kestrel's own
/// refusals of a bad request line, a negative Content-Length, oversized headers), sent as raw bytes to the
/// real server, and a wider set of malformed requests beside them.
/// </summary>
[Collection("server")]
public sealed class HostileRequestTests(ServerFixture fixture)
{
    /// <summary>A raw HTTP exchange: the bytes go out as they are, the whole response comes back.</summary>
    private async Task<(int Status, Dictionary<string, string> Headers, string Body)> SendRawAsync(byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Server.Address.Host, fixture.Server.Address.Port);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request);
            await stream.FlushAsync();
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything (oversized headers).
        }
        var received = new MemoryStream();
        var buffer = new byte[16384];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a hang ceiling only
        while (true)
        {
            int read;
            try { read = await stream.ReadAsync(buffer, timeout.Token); }
            catch (IOException) { break; }
            if (read == 0) break;
            received.Write(buffer, 0, read);
            if (ResponseIsComplete(received.ToArray())) break;
        }
        return Parse(received.ToArray());
    }

    private static bool ResponseIsComplete(byte[] bytes)
    {
        int end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0) return false;
        var (_, headers, _) = Parse(bytes);
        return headers.TryGetValue("content-length", out string? length) && bytes.Length - end - 4 >= int.Parse(length);
    }

    private static (int Status, Dictionary<string, string> Headers, string Body) Parse(byte[] bytes)
    {
        int end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(end > 0, $"no response head in {bytes.Length} bytes: {Encoding.ASCII.GetString(bytes)}");
        string[] lines = Encoding.ASCII.GetString(bytes, 0, end).Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1]);
        var headers = lines.Skip(1).Select(line => line.Split(':', 2)).ToDictionary(parts => parts[0].Trim().ToLowerInvariant(), parts => parts[1].Trim());
        byte[] body = bytes[(end + 4)..];
        if (headers.TryGetValue("transfer-encoding", out string? encoding) && encoding == "chunked") body = Unchunk(body);
        return (status, headers, Encoding.UTF8.GetString(body));
    }

    private static byte[] Unchunk(byte[] chunked)
    {
        var body = new MemoryStream();
        int position = 0;
        while (true)
        {
            int lineEnd = position < chunked.Length ? chunked.AsSpan(position).IndexOf("\r\n"u8) : -1;
            if (lineEnd < 0) return body.ToArray(); // the connection closed mid-body
            int size = Convert.ToInt32(Encoding.ASCII.GetString(chunked, position, lineEnd), 16);
            if (size == 0) return body.ToArray();
            body.Write(chunked, position + lineEnd + 2, Math.Min(size, chunked.Length - position - lineEnd - 2));
            position += lineEnd + 2 + size + 2;
        }
    }

    private static byte[] Post(string path, byte[] body, string? extraHeaders = null) =>
    [
        .. Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n"),
        .. body,
    ];

    /// <summary>Asserts a 4xx whose body is <c>{"error": {"message": ..., "type": ...}}</c>; returns the error object.</summary>
    private static JsonElement AssertJsonClientError(int status, Dictionary<string, string> headers, string body, string what)
    {
        Assert.True(status is >= 400 and < 500, $"{what}: status {status}, body {body}");
        Assert.True(headers.TryGetValue("content-type", out string? type) && type.StartsWith("application/json"), $"{what}: content type {type}, body '{body}'");
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), what);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()), what);
        if (status is 400 or 405 or 413 or 431) Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.True(error.TryGetProperty("param", out _) && error.TryGetProperty("code", out _), what);
        return error.Clone();
    }

    private async Task<JsonElement> ExpectClientErrorAsync(string path, byte[] body, string what)
    {
        var (status, headers, text) = await SendRawAsync(Post(path, body));
        return AssertJsonClientError(status, headers, text, what);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static TheoryData<string, string, string, string> TextShapes => new()
    {
        // name, path, body (JSON text; \uXXXX escapes stay escapes), the param the error must name
        { "lone high surrogate in prompt", "/v1/completions", """{"prompt":"\ud800x","max_tokens":1}""", "prompt" },
        { "lone low surrogate in stop", "/v1/completions", """{"prompt":"x","stop":["\udc00"],"max_tokens":1}""", "stop" },
        { "reversed surrogate pair", "/v1/completions", """{"prompt":"\udc00\ud800","max_tokens":1}""", "prompt" },
        { "lone surrogate in chat content", "/v1/chat/completions", """{"messages":[{"role":"user","content":"hi \ud83d"}],"max_tokens":1}""", "messages" },
        { "lone surrogate in a content part", "/v1/chat/completions", """{"messages":[{"role":"user","content":[{"type":"text","text":"\udfff"}]}],"max_tokens":1}""", "messages" },
        { "lone surrogate in a field name", "/v1/completions", """{"prompt":"x","\ud800":1}""", "" },
        { "lone surrogate in a schema", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"\ud800":{"type":"string"}}}}}}""", "response_format" },
        { "lone surrogate in a tool name", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f\udbff","parameters":{}}}]}""", "tools" },
        { "lone surrogate to tokenize", "/tokenize", """{"prompt":"\ud800"}""", "prompt" },
        { "lone surrogate in a logit_bias key", "/v1/completions", """{"prompt":"x","logit_bias":{"\ud800":1}}""", "logit_bias" },
        { "schema type 5", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":5}}}}""", "response_format" },
        { "schema type -1", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":-1}}}}""", "response_format" },
        { "schema type true", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":true}}}}""", "response_format" },
        { "schema type [1]", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":[1]}}}}""", "response_format" },
        { "nested schema type 5", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"a":{"type":"array","items":{"type":5}}}}}}}""", "response_format" },
        { "nested schema required 7", "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"a":{"type":"object","properties":{},"required":7}}}}}}""", "response_format" },
        { "empty prompt", "/v1/completions", """{"prompt":"","max_tokens":1}""", "prompt" },
        { "empty prompt in an array", "/v1/completions", """{"prompt":[""],"max_tokens":1}""", "prompt" },
        { "empty token prompt", "/v1/completions", """{"prompt":[],"max_tokens":1}""", "prompt" },
    };

    [Theory]
    [MemberData(nameof(TextShapes))]
    public async Task StringsThatAreNotTextAndBadSchemasAre400NamingTheField(string name, string path, string body, string param)
    {
        var error = await ExpectClientErrorAsync(path, Utf8(body), name);
        if (param.Length > 0) Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task InvalidUtf8IsA400NamingTheField()
    {
        // The issue's exact input: {"prompt":"\xff\xfe\xc0\x80abc","max_tokens":1} answered "internal error: Cannot
        // transcode invalid UTF-8 JSON text to UTF-16 string."
        byte[] prompt = [.. "{\"prompt\":\""u8, 0xFF, 0xFE, 0xC0, 0x80, .. "abc\",\"max_tokens\":1}"u8];
        var error = await ExpectClientErrorAsync("/v1/completions", prompt, "invalid UTF-8 prompt");
        Assert.Equal("prompt", error.GetProperty("param").GetString());
        Assert.Contains("prompt is not valid UTF-8", error.GetProperty("message").GetString());

        byte[] content = [.. "{\"messages\":[{\"role\":\"user\",\"content\":\"caf"u8, 0xE9, .. "\"}],\"max_tokens\":1}"u8];
        error = await ExpectClientErrorAsync("/v1/chat/completions", content, "invalid UTF-8 chat content");
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("messages[0].content is not valid UTF-8", error.GetProperty("message").GetString());

        byte[] overlong = [.. "{\"prompt\":\"x\",\"stop\":[\"ok\",\""u8, 0xC0, 0xAF, .. "\"]}"u8];
        error = await ExpectClientErrorAsync("/v1/completions", overlong, "overlong UTF-8 in stop");
        Assert.Contains("stop[1] is not valid UTF-8", error.GetProperty("message").GetString());

        byte[] surrogateBytes = [.. "{\"prompt\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8]; // U+D800 encoded as UTF-8 (CESU)
        await ExpectClientErrorAsync("/v1/completions", surrogateBytes, "an encoded surrogate");
    }

    [Fact]
    public async Task KestrelsOwnRefusalsCarryAJsonErrorBody()
    {
        // Answered by Kestrel before any middleware runs; they had empty bodies.
        var shapes = new (string Name, byte[] Request, int Status)[]
        {
            ("bad request line", Encoding.ASCII.GetBytes("GARBAGE\r\n\r\n"), 400),
            ("request line with spaces", Encoding.ASCII.GetBytes("POST /v1/completions extra HTTP/1.1\r\nHost: x\r\n\r\n"), 400),
            ("Content-Length: -5", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}"), 400),
            ("Content-Length not a number", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: five\r\n\r\n"), 400),
            ("two Content-Lengths", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"), 400),
            ("header without a colon", Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"), 400),
            ("no Host header", Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\n\r\n"), 400),
            ("oversized headers", Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('a', 40_000) + "\r\n\r\n"), 431),
            ("chunked and Content-Length", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n"), 400),
            ("bad chunk size", Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"), 400),
        };
        foreach (var (name, request, expected) in shapes)
        {
            var (status, headers, body) = await SendRawAsync(request);
            Assert.True(status == expected, $"{name}: status {status}, expected {expected}");
            AssertJsonClientError(status, headers, body, name);
        }
    }

    [Fact]
    public async Task AnotherMethodOnAKnownPathIsAJsonErrorNamingIt()
    {
        using var get = await fixture.Client.GetAsync("/v1/completions");
        Assert.Equal(404, (int)get.StatusCode);
        var error = JsonDocument.Parse(await get.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("no endpoint GET /v1/completions", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AWideSetOfMalformedRequestsGetsNo5xxAndOnlyJsonErrors()
    {
        string[] bodies =
        [
            "{", "}", "nul", "[]", "\"text\"", "42", "{\"prompt\": \"a\",}", "\u0000", new string('[', 5000), new string('{', 2000),
            "{\"prompt\": 1e999999}", "{\"max_tokens\": 18446744073709551616, \"prompt\": \"x\"}", "{\"prompt\": \"x\", \"max_tokens\": -5}",
            "{\"prompt\": \"x\", \"max_tokens\": 100000}", "{\"prompt\": \"x\", \"temperature\": -1}", "{\"prompt\": \"x\", \"temperature\": \"hot\"}",
            "{\"prompt\": \"x\", \"temperature\": 1e400}", "{\"prompt\": \"x\", \"top_p\": 0}", "{\"prompt\": \"x\", \"seed\": 1.5}", "{\"prompt\": \"x\", \"n\": 0}",
            "{\"prompt\": \"x\", \"n\": 1000}", "{\"prompt\": \"x\", \"logprobs\": 99}", "{\"prompt\": \"x\", \"logit_bias\": {\"abc\": 1}}",
            "{\"prompt\": \"x\", \"logit_bias\": {\"1\": 1000}}", "{\"prompt\": \"x\", \"logit_bias\": []}", "{\"prompt\": \"x\", \"stop\": [\"\"]}",
            "{\"prompt\": \"x\", \"stop\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}", "{\"prompt\": \"x\", \"stop\": \"" + new string('s', 300) + "\"}",
            "{\"prompt\": [1, 2, 99999999]}", "{\"prompt\": [-1]}", "{\"prompt\": [\"a\", \"b\"]}", "{\"prompt\": {\"text\": \"x\"}}",
            "{\"prompt\": \"x\", \"suffix\": \"y\"}", "{\"prompt\": \"x\", \"best_of\": 3}", "{\"prompt\": \"x\", \"model\": \"someone-else\"}",
            "{\"prompt\": \"x\", \"stream\": \"yes\"}", "{\"prompt\": \"x\", \"stream_options\": 7}", "{\"prompt\": \"x\", \"echo\": 1}",
            "{\"messages\": []}", "{\"messages\": {}}", "{\"messages\": [null]}", "{\"messages\": [{\"content\": \"no role\"}]}",
            "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "{\"messages\": [{\"role\": \"user\", \"content\": [7]}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": {\"type\": \"yaml\"}}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": \"json\"}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": {\"type\": \"json_schema\"}}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"schema\": {\"type\": \"object\", \"properties\": {\"a\": {\"$ref\": \"#\"}}}}}}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": 5}", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tool_choice\": \"required\"}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logprobs\": true, \"top_logprobs\": 50}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"reasoning_format\": \"loud\"}",
            "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"tool_calls\": []}]}",
        ];
        int checkedCount = 0;
        foreach (string path in new[] { "/v1/completions", "/v1/chat/completions", "/infill", "/tokenize", "/detokenize", "/apply-template" })
        {
            foreach (string body in bodies)
            {
                var (status, headers, text) = await SendRawAsync(Post(path, Utf8(body)));
                if (status == 200) continue; // a shape one endpoint accepts (a prompt sent to /tokenize that ignores its other fields)
                AssertJsonClientError(status, headers, text, $"{path} {(body.Length > 80 ? body[..80] : body)}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 200, $"only {checkedCount} refusals were checked");
        // Unknown paths and methods too.
        foreach (byte[] request in new[]
        {
            Encoding.ASCII.GetBytes("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Encoding.ASCII.GetBytes("DELETE /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Encoding.ASCII.GetBytes("PUT /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"),
        })
        {
            var (status, headers, text) = await SendRawAsync(request);
            AssertJsonClientError(status, headers, text, Encoding.ASCII.GetString(request).Split("\r\n")[0]);
        }
        using var health = await fixture.Client.GetAsync("/health");
        Assert.Equal(200, (int)health.StatusCode);
    }
}
