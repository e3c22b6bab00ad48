// Retrieval benchmarks over a built index (see docs/rag.md):
//   quality --index I [--queries N] [--seed S]
//       queries made from one sentence of a random chunk with a third of its words dropped; the share whose
//       chunk's source (and the chunk itself) is in the top 5, for BM25, dense and hybrid; HNSW recall@10
//       against exact search; search latency per mode (median, p95).
//   latency --index I --server URL --model GGUF [--questions N] [--top-k K] [--max-tokens T]
//       grounded answers end to end: retrieval here, the prompt through the server's /v1/chat/completions;
//       median and p95 of the total and each stage's share.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Embeddings;
using Dclm.Rag;
using Dclm.Rag.Answers;
using Dclm.Rag.Search;

var arguments = args.ToList();
string Option(string name, string fallback)
{
    int at = arguments.IndexOf(name);
    return at >= 0 && at + 1 < arguments.Count ? arguments[at + 1] : fallback;
}
if (arguments.Count == 0) { Console.Error.WriteLine("usage: quality|latency --index I ..."); return 2; }
using var index = RagIndex.Open(Option("--index", "my.index"));
using var embedder = EmbedderLoader.Load(index.Manifest.Embedder);
Console.WriteLine($"index {index.Path}: {index.Chunks.Count} chunks from {index.Manifest.Files.Count} files, {index.Manifest.EmbedderModel}, chunks of {index.Manifest.ChunkTokens} tokens");
var random = new Random(int.Parse(Option("--seed", "1")));
return arguments[0] switch
{
    "quality" => Quality(int.Parse(Option("--queries", "300"))),
    "latency" => await Latency(Option("--server", "http://127.0.0.1:8080"), Option("--model", ""), int.Parse(Option("--questions", "30")),
        int.Parse(Option("--top-k", "5")), int.Parse(Option("--max-tokens", "64"))),
    _ => 2,
};

// A sentence of the chunk (at least 8 words) with a third of its words dropped at random.
string? QueryFrom(string text)
{
    var sentences = text.Split(['.', '?', '!', '\n'], StringSplitOptions.RemoveEmptyEntries)
        .Select(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(w => w.Length >= 8).ToList();
    if (sentences.Count == 0) return null;
    var words = sentences[random.Next(sentences.Count)].ToList();
    int drop = words.Count / 3;
    for (int i = 0; i < drop; i++) words.RemoveAt(random.Next(words.Count));
    return string.Join(' ', words);
}

int Quality(int queries)
{
    var modes = new[] { SearchMode.Bm25, SearchMode.Dense, SearchMode.Hybrid };
    var sourceHits = modes.ToDictionary(m => m, _ => 0);
    var chunkHits = modes.ToDictionary(m => m, _ => 0);
    var times = modes.ToDictionary(m => m, _ => new List<double>());
    var embedTimes = new List<double>();
    double defaultWeight = index.LexicalWeight;
    var defaultFusion = index.Fusion;
    int defaultDepth = index.FusionDepth;
    (double, int)[] variants = [(1, 50), (1, 100), (2, 100), (-1, 50), (-1, 100)]; // weight −1: convex combination, α = 0.5
    var variantSource = variants.ToDictionary(v => v, _ => 0);
    var variantChunk = variants.ToDictionary(v => v, _ => 0);
    int made = 0, recallFound = 0, recallWanted = 0;
    while (made < queries)
    {
        int id = random.Next(index.Chunks.Count);
        var chunk = index.Chunks[id];
        if (QueryFrom(chunk.Text) is not { } query) continue;
        made++;
        var clock = Stopwatch.StartNew();
        var vector = index.EmbedQuery(query, embedder);
        embedTimes.Add(clock.Elapsed.TotalMilliseconds);
        foreach (var (weight, depth) in variants)
        {
            index.Fusion = weight < 0 ? FusionMethod.Convex : FusionMethod.ReciprocalRank;
            index.LexicalWeight = Math.Abs(weight);
            index.FusionDepth = depth;
            var fused = index.Search(query, vector, 5, SearchMode.Hybrid);
            if (fused.Any(h => h.Chunk.Source == chunk.Source)) variantSource[(weight, depth)]++;
            if (fused.Any(h => h.Id == id)) variantChunk[(weight, depth)]++;
        }
        index.LexicalWeight = defaultWeight;
        index.Fusion = defaultFusion;
        index.FusionDepth = defaultDepth;
        foreach (var mode in modes)
        {
            clock.Restart();
            var hits = index.Search(query, mode == SearchMode.Bm25 ? null : vector, 5, mode);
            times[mode].Add(clock.Elapsed.TotalMilliseconds);
            if (hits.Any(h => h.Chunk.Source == chunk.Source)) sourceHits[mode]++;
            if (hits.Any(h => h.Id == id)) chunkHits[mode]++;
        }
        var exact = index.Vectors.ExactSearch(vector, 10).Select(h => h.Id).ToHashSet();
        recallFound += index.Graph.Search(vector, 10, index.SearchBreadth).Count(h => exact.Contains(h.Id));
        recallWanted += exact.Count;
    }
    Console.WriteLine($"{made} queries (a sentence of a random chunk, a third of its words dropped), top 5:");
    Console.WriteLine("mode     source found   chunk found   search median   p95 (ms)");
    foreach (var mode in modes)
        Console.WriteLine($"{mode,-8} {100.0 * sourceHits[mode] / made,11:F1}%  {100.0 * chunkHits[mode] / made,11:F1}%  {Percentile(times[mode], 50),13:F2}  {Percentile(times[mode], 95),6:F2}");
    foreach (var v in variants)
        Console.WriteLine($"hybrid {(v.Item1 < 0 ? "convex, α 0.5" : $"RRF, BM25 weight {v.Item1}")}, depth {v.Item2}: source {100.0 * variantSource[v] / made:F1}%, chunk {100.0 * variantChunk[v] / made:F1}%");
    Console.WriteLine($"query embedding: median {Percentile(embedTimes, 50):F1} ms, p95 {Percentile(embedTimes, 95):F1} ms (not in the search times above)");
    Console.WriteLine($"HNSW recall@10 against exact search: {100.0 * recallFound / recallWanted:F2}% (breadth {index.SearchBreadth})");
    return 0;
}

async Task<int> Latency(string server, string modelPath, int questions, int topK, int maxTokens)
{
    using var model = ModelLoader.Load(modelPath);
    var tokenizer = model.RequireTokenizer();
    int context = model.Config.ContextLength;
    using var http = new HttpClient { BaseAddress = new Uri(server), Timeout = TimeSpan.FromMinutes(5) };
    var retrieval = new List<double>(); var prompt = new List<double>(); var generation = new List<double>(); var total = new List<double>();
    var answerTokens = new List<int>(); var promptTokens = new List<int>();
    for (int q = -2; q < questions; q++) // two warm-up questions first
    {
        string? question = null;
        while (question is null) question = QueryFrom(index.Chunks[random.Next(index.Chunks.Count)].Text);
        var clock = Stopwatch.StartNew();
        var hits = index.Search(question, topK, SearchMode.Hybrid, embedder);
        double t1 = clock.Elapsed.TotalMilliseconds;
        var (messages, _) = GroundedPrompt.Build(question, hits, context, maxTokens, text => tokenizer.Encode(text).Length);
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
    Console.WriteLine($"prompt tokens: median {Percentile(promptTokens.Select(t => (double)t).ToList(), 50):F0}; answer tokens: median {Percentile(answerTokens.Select(t => (double)t).ToList(), 50):F0}");
    Console.WriteLine("stage                     median ms    p95 ms   share of mean total");
    foreach (var (name, values) in new[] { ("retrieval (embed+search)", retrieval), ("prompt", prompt), ("generation (server)", generation), ("total", total) })
        Console.WriteLine($"{name,-25} {Percentile(values, 50),9:F0} {Percentile(values, 95),9:F0}   {100 * values.Average() / total.Average(),6:F1}%");
    return 0;
}

static double Percentile(List<double> values, double percent)
{
    if (values.Count == 0) return double.NaN;
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percent / 100 * sorted.Count) - 1)];
}
