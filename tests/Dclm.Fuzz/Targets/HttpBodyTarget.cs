using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dclm.Inference.Engine;
using Dclm.Models;
using Dclm.Server.Hosting;
using Dclm.TestSupport;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// Request bodies sent to a real server (Kestrel, the full middleware pipeline, a tiny random-weight model with
/// DCLM's GPT-NeoX vocabulary): valid requests for every endpoint, mutated as JSON with the API's own field
/// names and values among the replacements, and sometimes damaged as bytes (invalid UTF-8, cuts). A 2xx is an
/// accepted case (streams are read to the end), a 4xx with an OpenAI-style JSON error a clean refusal;
/// anything else — a 5xx, a 4xx without that body — is a finding.
/// </summary>
internal sealed class HttpBodyTarget : FuzzTarget
{
    private static readonly (string Path, string Body)[] Seeds =
    [
        ("/v1/completions", """{"prompt": "Once upon a time", "max_tokens": 4, "temperature": 0.7, "top_p": 0.9, "stop": ["\n"], "seed": 1}"""),
        ("/v1/completions", """{"prompt": [1, 2, 3], "max_tokens": 3, "echo": true, "logprobs": 2, "n": 2, "logit_bias": {"5": -100}}"""),
        ("/v1/completions", """{"prompt": "x", "max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}}"""),
        ("/v1/chat/completions", """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 4, "top_k": 5, "min_p": 0.1, "frequency_penalty": 0.5}"""),
        ("/v1/chat/completions", """{"messages": [{"role": "user", "content": [{"type": "text", "text": "JSON please"}]}], "max_tokens": 6, "response_format": {"type": "json_object"}}"""),
        ("/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "max_tokens": 6, "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"enum": ["x", "y"]}}, "required": ["a"], "additionalProperties": false}}}}"""),
        ("/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "max_tokens": 3, "logprobs": true, "top_logprobs": 3, "stream": true}"""),
        ("/tokenize", """{"prompt": "Hello world", "add_special_tokens": true}"""),
        ("/tokenize", """{"messages": [{"role": "user", "content": "Hello"}]}"""),
        ("/detokenize", """{"tokens": [12092, 1533]}"""),
        ("/apply-template", """{"messages": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi"}]}"""),
    ];

    private static readonly string[] Words =
    [
        "prompt", "messages", "role", "content", "user", "assistant", "system", "tool", "developer", "max_tokens", "max_completion_tokens",
        "temperature", "top_p", "top_k", "min_p", "n", "stream", "stop", "seed", "logprobs", "top_logprobs", "echo", "logit_bias",
        "response_format", "json_object", "json_schema", "text", "type", "tools", "tool_choice", "function", "name", "parameters",
        "tokens", "model", "suffix", "best_of", "stream_options", "include_usage", "reasoning_format", "none", "required", "auto",
    ];

    private readonly ScratchFolder folder = new("http");
    private readonly DclmServer server;
    private readonly HttpClient client;

    public HttpBodyTarget(string seedFolder)
    {
        string model = TinyNeoXModels.Write(folder.Path, ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 512),
            seed: 7, weightScale: 0.5f, Path.Combine(seedFolder, "gpt-neox-20b.vocab.gguf"));
        server = DclmServer.StartAsync(new ServerOptions
        {
            ModelPath = model, Host = "127.0.0.1", Port = 0, Threads = 1,
            Engine = new EngineOptions { MaxRunningSequences = 8, ContextLength = 96, MaxWaitingRequests = 64 },
        }).GetAwaiter().GetResult();
        server.Host.Loading.GetAwaiter().GetResult();
        client = new HttpClient { BaseAddress = server.Address, Timeout = Timeout.InfiniteTimeSpan };
        // One request of each seed first, so that case 0 is not timed with the server's start-up (JIT, first batch).
        foreach (var (path, body) in Seeds)
            client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json")).GetAwaiter().GetResult().Dispose();
    }

    public override string Name => "http";

    public override string ExpectedErrors => "4xx with {\"error\": {\"message\", \"type\", \"param\", \"code\"}}";

    public override byte[] NextCase(Random random)
    {
        int seed = random.Next(Seeds.Length);
        byte[] body = random.Next(10) == 0 ? ByteMutator.Mutate(Encoding.UTF8.GetBytes(Seeds[seed].Body), random) : JsonMutator.Mutate(Seeds[seed].Body, random, Words);
        // The endpoint travels in the case: one byte, then the body.
        return [(byte)seed, .. body];
    }

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        string path = Seeds[input[0] % Seeds.Length].Path;
        using var content = new ByteArrayContent(input, 1, input.Length - 1);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = client.PostAsync(path, content, cancellation).GetAwaiter().GetResult();
        string text = response.Content.ReadAsStringAsync(cancellation).GetAwaiter().GetResult();
        int status = (int)response.StatusCode;
        if (status is >= 200 and < 300) return true;
        if (status is < 400 or >= 500) throw new FuzzFinding($"{path} answered {status}: {Shorten(text)}");
        if (response.Content.Headers.ContentType?.MediaType != "application/json") throw new FuzzFinding($"{path} answered {status} with content type {response.Content.Headers.ContentType}: {Shorten(text)}");
        try
        {
            using var document = JsonDocument.Parse(text);
            var error = document.RootElement.GetProperty("error");
            if (string.IsNullOrEmpty(error.GetProperty("message").GetString()) || string.IsNullOrEmpty(error.GetProperty("type").GetString()))
                throw new FuzzFinding($"{path} answered {status} with an empty message or type: {Shorten(text)}");
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FuzzFinding($"{path} answered {status} without an OpenAI-style error body: {Shorten(text)}");
        }
        return false;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    public override void Dispose()
    {
        client.Dispose();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        folder.Dispose();
    }
}
