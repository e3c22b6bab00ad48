using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dclm.Chat;
using Dclm.Rag;
using Dclm.Rag.Answers;

namespace Dclm.Cli.Commands;

/// <summary>
/// `dclm rag ask --index I [--model P] "question"`: retrieves chunks, puts them into the model's chat template with an
/// instruction to cite them, and prints the answer and the numbered sources. With --server URL the question goes to a
/// running `dclm serve --rag-index` instead (chat completions with "rag"), and --index names one of its indexes.
/// </summary>
internal static class RagAskCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "the index folder; with --server, the name of one of the server's indexes (default: its only one, or \"default\")" };
        var model = ModelOptions.Model();
        var question = new Argument<string>("question") { Description = "the question to answer" };
        var topK = new Option<int>("--top-k") { Description = "chunks retrieved into the prompt (cut to fit the model's context)", DefaultValueFactory = _ => 5 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens in the answer", DefaultValueFactory = _ => 256 };
        var mode = new Option<string>("--mode") { Description = "hybrid, bm25 or dense retrieval", DefaultValueFactory = _ => "hybrid" };
        mode.AcceptOnlyFromAmong("hybrid", "bm25", "dense");
        var temperature = new Option<float>("--temperature") { Description = "sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0f };
        var json = new Option<bool>("--json") { Description = "print {\"answer\", \"sources\": [{\"number\", \"source\", \"chunk\", \"text\", \"score\", \"cited\"}]}" };
        var server = new Option<string?>("--server") { Description = "ask a running `dclm serve --rag-index` at this URL (e.g. http://127.0.0.1:8080) instead of loading the model here" };
        var apiKey = new Option<string?>("--api-key") { Description = "with --server: the server's API key (default: $DCLM_API_KEY)" };
        var threads = ModelOptions.Threads();
        var command = new Command("ask", "Answer a question from an index's documents, citing them as [1], [2], ...")
        {
            question, index, model, topK, maxTokens, mode, temperature, json, server, apiKey, threads,
        };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(async () =>
        {
            var ask = new AskOptions
            {
                TopK = parse.GetValue(topK), Mode = RagCommand.ParseMode(parse.GetValue(mode)), MaxAnswerTokens = parse.GetValue(maxTokens), Temperature = parse.GetValue(temperature),
            };
            string text = parse.GetValue(question)!;
            var answer = parse.GetValue(server) is { } url
                ? await AskServerAsync(url, parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("DCLM_API_KEY"), parse.GetValue(index), parse.GetValue(mode)!, text, ask, cancellation)
                : await AskHereAsync(parse.GetValue(index) ?? throw new ArgumentException("--index is required (the index folder), unless --server names a server to ask"),
                    ServeModel.Resolve(parse.GetValue(model)), parse.GetValue(threads), text, ask, cancellation);
            Print(answer, parse.GetValue(json));
            return 0;
        }));
        return command;
    }

    private static async Task<GroundedAnswer> AskHereAsync(string indexPath, string modelPath, int threads, string question, AskOptions ask, CancellationToken cancellation)
    {
        using var opened = RagIndex.Open(indexPath);
        using var embedder = ask.Mode == Rag.Search.SearchMode.Bm25 ? null : EmbedderOptions.Load(opened.Manifest.Embedder);
        var options = new ModelHostOptions
        {
            ModelPath = modelPath, Threads = threads,
            Engine = new Inference.Engine.EngineOptions { MaxRunningSequences = 1, ContextLength = 1 << 20, PrefixCacheEntries = 2 },
        };
        using var host = new ModelHost(options);
        try { await host.Loading.WaitAsync(cancellation); }
        catch (Exception e) when (e is not OperationCanceledException) { throw new ArgumentException($"{options.ModelPath}: {e.Message}"); }
        using var client = new EngineChatClient(host);
        var answerer = new GroundedAnswerer(opened, embedder, client, host.Engine!.ContextLength, text => host.EncodeText(text).Length);
        return await answerer.AskAsync(question, ask, cancellation);
    }

    /// <summary>The question as a chat completion with "rag"; the server retrieves, answers and returns the sources.</summary>
    private static async Task<GroundedAnswer> AskServerAsync(string url, string? key, string? index, string mode, string question, AskOptions ask, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--server '{url}' is not an http:// or https:// URL");
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(10) };
        if (!string.IsNullOrEmpty(key)) http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var rag = new JsonObject { ["top_k"] = ask.TopK, ["mode"] = mode };
        if (index is not null) rag["index"] = index;
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = question }),
            ["max_tokens"] = ask.MaxAnswerTokens, ["temperature"] = ask.Temperature, ["rag"] = rag,
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpResponseMessage response;
        try { response = await http.PostAsJsonAsync("v1/chat/completions", body, cancellation); }
        catch (HttpRequestException e) { throw new IOException($"cannot reach the server at {address}: {e.Message}", e); }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellation);
            JsonElement root;
            try { root = JsonDocument.Parse(text).RootElement; }
            catch (JsonException) { throw new IOException($"{address} answered {(int)response.StatusCode} with a body that is not JSON"); }
            if (!response.IsSuccessStatusCode)
            {
                string message = root.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : text;
                throw new ArgumentException($"the server answered {(int)response.StatusCode}: {message}");
            }
            if (!root.TryGetProperty("rag", out var grounding))
                throw new IOException($"{address} did not ground the answer (no \"rag\" in its reply); is it a dclm server started with --rag-index?");
            var choice = root.GetProperty("choices")[0];
            string answer = choice.GetProperty("message").TryGetProperty("content", out var content) ? content.GetString() ?? "" : "";
            var sources = grounding.GetProperty("citations").EnumerateArray().Select(c => new Citation(
                c.GetProperty("number").GetInt32(), c.GetProperty("source").GetString()!, c.GetProperty("chunk").GetInt32(), c.GetProperty("text").GetString()!, c.GetProperty("score").GetSingle())).ToList();
            double retrieval = grounding.GetProperty("retrieval_ms").GetDouble() / 1000;
            return new GroundedAnswer(answer, sources, GroundedAnswerer.Cited(answer, sources.Count), retrieval, clock.Elapsed.TotalSeconds - retrieval);
        }
    }

    private static void Print(GroundedAnswer answer, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                answer = answer.Answer,
                sources = answer.Sources.Select(s => new { number = s.Number, source = s.Source, chunk = s.Chunk, text = s.Text, score = s.Score, cited = answer.Cited.Contains(s.Number) }),
            }));
            return;
        }
        Console.WriteLine(answer.Answer.Trim());
        Console.WriteLine();
        Console.WriteLine("Sources:");
        foreach (var s in answer.Sources)
            Console.WriteLine($"[{s.Number}]{(answer.Cited.Contains(s.Number) ? "*" : " ")} {s.Source} (chunk {s.Chunk}): {RagCommand.OneLine(s.Text, 120)}");
        Console.Error.WriteLine($"[retrieval {answer.RetrievalSeconds * 1000:F0} ms, generation {answer.GenerationSeconds * 1000:F0} ms; * = cited]");
    }
}
