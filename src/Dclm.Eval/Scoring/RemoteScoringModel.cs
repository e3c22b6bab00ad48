using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Eval.Generation;

namespace Dclm.Eval.Scoring;

/// <summary>
/// Scores through any OpenAI-compatible completions endpoint (our server, llama-server, vLLM) the way
/// lm-evaluation-harness's <c>local-completions</c> does: the prompt is sent as token ids with
/// <c>echo: true</c>, <c>logprobs: 1</c>, <c>max_tokens: 1</c> and temperature 0; the continuation's
/// log-likelihood is the sum of the echoed <c>token_logprobs</c> past the context, and it is greedy when
/// each of those equals the largest of its <c>top_logprobs</c>. Text is tokenized by the server's
/// <c>/tokenize</c> (vLLM's and our request shape, then llama-server's). Requests for one question go out
/// together, so a continuous-batching server runs them as one batch. Generation and code tasks generate through the
/// same endpoint (<see cref="Complete"/>).
/// </summary>
public sealed class RemoteScoringModel : IScoringModel, ICompletionModel, IDisposable
{
    private readonly HttpClient _http;
    private readonly string _model;
    private readonly Dictionary<(string, bool), int[]> _tokens = [];
    private long _passes;

    private RemoteScoringModel(HttpClient http, string model, int contextLength, int? endOfSequence)
    {
        _http = http;
        _model = model;
        ContextLength = contextLength;
        EndOfSequenceId = endOfSequence;
    }

    /// <summary>The served model's id.</summary>
    public string ModelId => _model;
    /// <summary>The server's context window (max_model_len).</summary>
    public int ContextLength { get; }
    /// <inheritdoc />
    /// <remarks>Always null: the server keeps its logits, and reports stability on its own /metrics.</remarks>
    public Inference.OutputStability? LastStability => null;
    /// <inheritdoc />
    /// <remarks>One token stays free for the token the request generates (max_tokens 1), as the harness leaves it.</remarks>
    public int LongestSequence => ContextLength - 1;
    /// <inheritdoc />
    public int? EndOfSequenceId { get; }
    /// <inheritdoc />
    public long BatchedPasses => Interlocked.Read(ref _passes);

    /// <summary>Connects to <paramref name="baseUrl"/> (with or without /v1), reads the served model and its context from /v1/models.</summary>
    public static RemoteScoringModel Connect(string baseUrl, string? apiKey = null, string? model = null, int? contextLength = null, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--server: '{baseUrl}' is not an http(s) URL");
        if (root.AbsolutePath.EndsWith("/v1/", StringComparison.Ordinal)) root = new Uri(root, "..");
        var http = new HttpClient { BaseAddress = root, Timeout = timeout ?? TimeSpan.FromMinutes(10) };
        if (apiKey is { Length: > 0 }) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        try
        {
            var models = Send(http, HttpMethod.Get, "v1/models", null);
            var first = (models["data"] as JsonArray)?.FirstOrDefault() as JsonObject ?? throw new InvalidDataException($"{root}v1/models lists no model");
            string id = model ?? first["id"]?.GetValue<string>() ?? throw new InvalidDataException($"{root}v1/models: the model has no id");
            int window = contextLength ?? (first["max_model_len"] ?? first["context_length"] ?? first["meta"]?["n_ctx_train"])?.GetValue<int>()
                ?? throw new InvalidDataException($"{root}v1/models does not say the model's context length (max_model_len); give --max-length");
            var remote = new RemoteScoringModel(http, id, window, null);
            return new RemoteScoringModel(http, id, window, remote.EndOfText());
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>The id the server gives "&lt;|endoftext|&gt;" or "&lt;/s&gt;" when it is one special token, else null.</summary>
    private int? EndOfText()
    {
        foreach (var text in new[] { "<|endoftext|>", "</s>" })
        {
            try
            {
                var ids = Tokenize(text, addSpecialTokens: false);
                if (ids.Length == 1) return ids[0];
            }
            catch (InvalidDataException) { }
        }
        return null;
    }

    /// <inheritdoc />
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        lock (_tokens)
            if (_tokens.TryGetValue((text, addSpecialTokens), out var cached)) return cached;
        var ids = text.Length == 0 && !addSpecialTokens ? [] : Tokenize(text, addSpecialTokens);
        lock (_tokens)
        {
            if (_tokens.Count > 8192) _tokens.Clear();
            _tokens[(text, addSpecialTokens)] = ids;
        }
        return ids;
    }

    private int[] Tokenize(string text, bool addSpecialTokens)
    {
        JsonObject response;
        try { response = Send(_http, HttpMethod.Post, "tokenize", new JsonObject { ["model"] = _model, ["prompt"] = text, ["add_special_tokens"] = addSpecialTokens }); }
        catch (InvalidDataException) { response = Send(_http, HttpMethod.Post, "tokenize", new JsonObject { ["content"] = text, ["add_special"] = addSpecialTokens }); }
        return (response["tokens"] as JsonArray ?? throw new InvalidDataException("/tokenize answered without tokens"))
            .Select(t => t is JsonObject o ? o["id"]!.GetValue<int>() : t!.GetValue<int>()).ToArray();
    }

    /// <inheritdoc />
    public ContinuationScore[] Score(IReadOnlyList<ScoringOption> options, int longest, CancellationToken cancellation = default)
    {
        if (longest > LongestSequence) throw new ArgumentOutOfRangeException(nameof(longest), $"sequences of {longest} tokens do not fit the server's context of {ContextLength} with one generated token");
        var scores = new ContinuationScore[options.Count];
        Parallel.For(0, options.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, j => scores[j] = ScoreOne(options[j], longest));
        Interlocked.Increment(ref _passes);
        return scores;
    }

    private ContinuationScore ScoreOne(ScoringOption option, int longest)
    {
        var (context, continuation) = option;
        if (continuation.Length == 0) throw new ArgumentException("a continuation must hold at least one token");
        if (continuation.Length >= longest) throw new ArgumentException($"a continuation of {continuation.Length} tokens does not fit a scored sequence of {longest}");
        if (context.Length + continuation.Length > longest) context = context[^(longest - continuation.Length)..];
        int[] prompt = [.. context, .. continuation];
        var request = new JsonObject
        {
            ["model"] = _model, ["prompt"] = new JsonArray(prompt.Select(t => (JsonNode?)t).ToArray()),
            ["max_tokens"] = 1, ["temperature"] = 0, ["logprobs"] = 1, ["echo"] = true, ["seed"] = 1234,
        };
        var response = Send(_http, HttpMethod.Post, "v1/completions", request);
        var logprobs = (response["choices"] as JsonArray)?.FirstOrDefault()?["logprobs"] as JsonObject
            ?? throw new InvalidDataException("the completion has no logprobs (does the server support echo with logprobs?)");
        var tokenLogprobs = logprobs["token_logprobs"] as JsonArray ?? throw new InvalidDataException("logprobs has no token_logprobs");
        var top = logprobs["top_logprobs"] as JsonArray;
        if (tokenLogprobs.Count < prompt.Length) throw new InvalidDataException($"the server echoed {tokenLogprobs.Count} token log-probabilities for a prompt of {prompt.Length} tokens");
        double sum = 0;
        bool greedy = true;
        for (int p = context.Length; p < prompt.Length; p++)
        {
            double value = tokenLogprobs[p]?.GetValue<double>() ?? throw new InvalidDataException($"prompt token {p} has no log-probability");
            sum += value;
            if (top?[p] is JsonObject candidates && candidates.Count > 0) greedy &= value >= candidates.Max(c => c.Value!.GetValue<double>());
            else greedy = false;
        }
        return new ContinuationScore(sum, continuation.Length, greedy);
    }

    /// <summary>
    /// Generates through <c>/v1/completions</c> from the prompt's token ids. At most four stop strings go to the server
    /// (OpenAI's limit); the text is cut at the first of all of them here, so the result is the same.
    /// Sampling sends <c>top_k</c>, <c>top_p</c> 1 and <c>min_p</c> 0 (llama-server's default min-p is 0.05).
    /// </summary>
    public string Complete(IReadOnlyList<int> prompt, CompletionRequest request, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        if (prompt.Count + request.MaxTokens > ContextLength)
            throw new ArgumentException($"a prompt of {prompt.Count} tokens and {request.MaxTokens} to generate do not fit the server's context of {ContextLength}");
        var body = new JsonObject
        {
            ["model"] = _model, ["prompt"] = new JsonArray(prompt.Select(t => (JsonNode?)t).ToArray()),
            ["max_tokens"] = request.MaxTokens, ["temperature"] = request.Temperature, ["seed"] = unchecked((long)request.Seed),
        };
        if (request.Temperature > 0)
        {
            body["top_p"] = 1;
            body["min_p"] = 0;
            if (request.TopK > 0) body["top_k"] = request.TopK;
        }
        if (request.StopStrings.Count > 0) body["stop"] = new JsonArray(request.StopStrings.Take(4).Select(s => (JsonNode?)s).ToArray());
        var response = Send(_http, HttpMethod.Post, "v1/completions", body);
        string text = (response["choices"] as JsonArray)?.FirstOrDefault()?["text"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{_http.BaseAddress}v1/completions answered without choices[0].text");
        return request.CutAtStop(text);
    }

    private static JsonObject Send(HttpClient http, HttpMethod method, string path, JsonObject? body)
    {
        using var message = new HttpRequestMessage(method, path);
        if (body is not null) message.Content = JsonContent.Create(body);
        HttpResponseMessage response;
        try { response = http.Send(message); }
        catch (HttpRequestException e) { throw new IOException($"{http.BaseAddress}{path}: {e.Message}", e); }
        catch (TaskCanceledException e) { throw new IOException($"{http.BaseAddress}{path}: no answer within {http.Timeout.TotalSeconds:F0} s", e); }
        using (response)
        {
            string text = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
            if (!response.IsSuccessStatusCode)
                throw new InvalidDataException($"{http.BaseAddress}{path}: HTTP {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
            try { return JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{http.BaseAddress}{path}: the answer is not a JSON object"); }
            catch (JsonException e) { throw new InvalidDataException($"{http.BaseAddress}{path}: the answer is not JSON ({e.Message})"); }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
