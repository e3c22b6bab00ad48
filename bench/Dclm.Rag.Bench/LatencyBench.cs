using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Embeddings;
using Dclm.Rag.Answers;
using Dclm.Rag.Search;

namespace Dclm.Rag.Bench;

/// <summary>
/// Grounded answers end to end. By default as `dclm rag ask --server` asks them: the question alone to a running
/// `dclm serve --rag-index` with "rag" (the server retrieves, builds the prompt and answers; retrieval is the time the
/// server reports). With --client-retrieval: retrieval and the prompt here, the prompt through the server.
/// </summary>
internal static class LatencyBench
{
    public static async Task<int> RunAsync(BenchOptions options) =>
        options.Has("--client-retrieval") ? await ClientRetrievalAsync(options) : await ServerRetrievalAsync(options);

    private static async Task<int> ServerRetrievalAsync(BenchOptions options)
    {
        // The index is opened here only to draw questions from its chunks.
        using var index = RagIndex.Open(options.Get("--index", "my.index"));
        var random = new Random(options.Int("--seed", 1));
        int questions = options.Int("--questions", 30), topK = options.Int("--top-k", 5), maxTokens = options.Int("--max-tokens", 64);
        string name = options.Get("--index-name", "default");
        Console.WriteLine($"index {index.Path}: {index.Chunks.Count} chunks from {index.Manifest.Files.Count} files, {index.Manifest.EmbedderModel}, chunks of {index.Manifest.ChunkTokens} tokens");
        Console.WriteLine(Stats.Machine());
        using var http = new HttpClient { BaseAddress = new Uri(options.Get("--server", "http://127.0.0.1:8080")), Timeout = TimeSpan.FromMinutes(5) };
        var retrieval = new List<double>(); var generation = new List<double>(); var total = new List<double>();
        var answerTokens = new List<double>(); var promptTokens = new List<double>();
        for (int q = -2; q < questions; q++) // two warm-up questions first
        {
            string? question = null;
            while (question is null) question = Queries.From(index.Chunks[random.Next(index.Chunks.Count)].Text, random);
            var body = new
            {
                messages = new[] { new { role = "user", content = question } },
                max_tokens = maxTokens, temperature = 0, rag = new { index = name, top_k = topK },
            };
            var clock = Stopwatch.StartNew();
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", body);
            string text = await response.Content.ReadAsStringAsync();
            double elapsed = clock.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"the server answered {(int)response.StatusCode}: {text}");
            if (q < 0) continue;
            using var reply = JsonDocument.Parse(text);
            var usage = reply.RootElement.GetProperty("usage");
            double retrieved = reply.RootElement.GetProperty("rag").GetProperty("retrieval_ms").GetDouble();
            answerTokens.Add(usage.GetProperty("completion_tokens").GetInt32());
            promptTokens.Add(usage.GetProperty("prompt_tokens").GetInt32());
            retrieval.Add(retrieved); generation.Add(elapsed - retrieved); total.Add(elapsed);
        }
        Console.WriteLine($"{questions} grounded questions over the server (\"rag\": top {topK}), answers of at most {maxTokens} tokens:");
        Console.WriteLine($"prompt tokens: median {Stats.Percentile(promptTokens, 50):F0}; answer tokens: median {Stats.Percentile(answerTokens, 50):F0}");
        Console.WriteLine("stage                             median ms    p95 ms   share of mean total");
        foreach (var (stage, values) in new[] { ("retrieval (server: embed+search)", retrieval), ("prompt + generation + HTTP", generation), ("total", total) })
            Console.WriteLine($"{stage,-33} {Stats.Percentile(values, 50),9:F0} {Stats.Percentile(values, 95),9:F0}   {100 * values.Average() / total.Average(),6:F1}%");
        Console.WriteLine(Stats.Machine());
        return 0;
    }

    private static async Task<int> ClientRetrievalAsync(BenchOptions options)
    {
        using var index = RagIndex.Open(options.Get("--index", "my.index"));
        using var embedder = EmbedderLoader.Load(index.Manifest.Embedder);
        var random = new Random(options.Int("--seed", 1));
        int questions = options.Int("--questions", 30), topK = options.Int("--top-k", 5), maxTokens = options.Int("--max-tokens", 64);
        Console.WriteLine($"index {index.Path}: {index.Chunks.Count} chunks from {index.Manifest.Files.Count} files, {index.Manifest.EmbedderModel}, chunks of {index.Manifest.ChunkTokens} tokens");
        Console.WriteLine(Stats.Machine());

        using var model = ModelLoader.Load(options.Get("--model", ""));
        var tokenizer = model.RequireTokenizer();
        int context = options.Int("--ctx", model.Config.ContextLength);
        using var http = new HttpClient { BaseAddress = new Uri(options.Get("--server", "http://127.0.0.1:8080")), Timeout = TimeSpan.FromMinutes(5) };
        var retrieval = new List<double>(); var prompt = new List<double>(); var generation = new List<double>(); var total = new List<double>();
        var answerTokens = new List<double>(); var promptTokens = new List<double>();
        for (int q = -2; q < questions; q++) // two warm-up questions first
        {
            string? question = null;
            while (question is null) question = Queries.From(index.Chunks[random.Next(index.Chunks.Count)].Text, random);
            var clock = Stopwatch.StartNew();
            var hits = index.Search(question, topK, SearchMode.Hybrid, embedder);
            double t1 = clock.Elapsed.TotalMilliseconds;
            var messages = GroundedPrompt.ForContext(question, hits, context, maxTokens, text => tokenizer.Encode(text).Length).ToChatMessages();
            double t2 = clock.Elapsed.TotalMilliseconds;
            var body = new
            {
                messages = messages.Select(m => new { role = m.Role.Value, content = m.Text }),
                max_tokens = maxTokens, temperature = 0,
            };
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
            using var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            double t3 = clock.Elapsed.TotalMilliseconds;
            if (q < 0) continue;
            var usage = reply.RootElement.GetProperty("usage");
            answerTokens.Add(usage.GetProperty("completion_tokens").GetInt32());
            promptTokens.Add(usage.GetProperty("prompt_tokens").GetInt32());
            retrieval.Add(t1); prompt.Add(t2 - t1); generation.Add(t3 - t2); total.Add(t3);
        }
        Console.WriteLine($"{questions} grounded questions, top {topK}, answers of at most {maxTokens} tokens, model context {context}:");
        Console.WriteLine($"prompt tokens: median {Stats.Percentile(promptTokens, 50):F0}; answer tokens: median {Stats.Percentile(answerTokens, 50):F0}");
        Console.WriteLine("stage                     median ms    p95 ms   share of mean total");
        foreach (var (name, values) in new[] { ("retrieval (embed+search)", retrieval), ("prompt", prompt), ("generation (server)", generation), ("total", total) })
            Console.WriteLine($"{name,-25} {Stats.Percentile(values, 50),9:F0} {Stats.Percentile(values, 95),9:F0}   {100 * values.Average() / total.Average(),6:F1}%");
        Console.WriteLine(Stats.Machine());
        return 0;
    }
}
