using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dclm.Inference.Engine;
using Dclm.Server.Hosting;

// Load benchmark of the OpenAI-compatible server: streaming clients over loopback HTTP.
// Usage: dotnet run -c Release --project bench/Dclm.Server.Bench -- [--model PATH] [--tokens 64] [--requests 4] [--rounds 5] [--threads N] [--mmap|--no-mmap] [--temperature T] [--kv-type int8|f32 (default int8, as dclm serve)]
// Each round sweeps 1, 4, 8 and 16 clients once; rounds interleave the widths so a slow spell of a
// shared machine (a stolen core) lands on all of them, and the table reports each width's median.
string? model = null;
int tokens = 64, perClient = 4, rounds = 5, threads = 0;
float temperature = 0; // 0: greedy; 1 with no top-k/top-p: what OpenAI clients send by default
bool mmap = false, noMmap = false;
var kvType = Dclm.Models.KvCacheType.Int8; // as `dclm serve`
for (int i = 0; i < args.Length; i += 2)
{
    if (args[i] == "--no-mmap") { noMmap = true; i--; continue; }
    if (args[i] == "--mmap") { mmap = true; i--; continue; }
    if (i + 1 >= args.Length) { Console.Error.WriteLine($"{args[i]} needs a value"); return 2; }
    switch (args[i])
    {
        case "--model": model = args[i + 1]; break;
        case "--tokens": tokens = int.Parse(args[i + 1]); break;
        case "--requests": perClient = int.Parse(args[i + 1]); break;
        case "--rounds": rounds = Math.Max(1, int.Parse(args[i + 1])); break;
        case "--threads": threads = int.Parse(args[i + 1]); break;
        case "--temperature": temperature = float.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--kv-type" when args[i + 1] is "f32" or "int8": kvType = args[i + 1] == "int8" ? Dclm.Models.KvCacheType.Int8 : Dclm.Models.KvCacheType.F32; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
model ??= Environment.GetEnvironmentVariable("DCLM_DEFAULT_MODEL") ?? Path.Combine("models", "default", "model.gguf");
if (!File.Exists(model) && !Directory.Exists(model)) { Console.Error.WriteLine($"error: {model}: no such model; pass --model PATH"); return 1; }
Dclm.Checkpoints.WeightLoading loading;
try { loading = Dclm.Checkpoints.WeightLoadingOptions.FromFlags(mmap, noMmap); }
catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }

int[] Widths = [1, 4, 8, 16];

ServerOptions Options(int prefixEntries) => new()
{
    ModelPath = model, Port = 0, Threads = threads, WeightLoading = loading,
    Engine = new EngineOptions { MaxRunningSequences = 16, PrefixCacheEntries = prefixEntries, ContextLength = 1024, KvCacheType = kvType },
};

await using (var server = await DclmServer.StartAsync(Options(prefixEntries: 0)))
{
    await server.Host.Loading;
    int contextLength = server.Host.Engine!.ContextLength;
    using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(30) };
    // Untimed rounds at every batch width first: the batched kernels are compiled (and re-compiled
    // by tiered JIT) on first use, which would otherwise land in whichever level runs them first.
    for (int round = 0; round < 3; round++)
        foreach (int width in Widths)
            await Task.WhenAll(Enumerable.Range(0, width).Select(_ => StreamAsync(client, """{"prompt": "warm up", "max_tokens": 16, "stream": true}""")));
    int budget = Math.Min(tokens, contextLength - 40);
    Console.WriteLine($"model {server.Host.ModelId} ({server.Host.Residence?.Describe()}), {budget} tokens per request, {(temperature > 0 ? $"temperature {temperature} (no top-k or top-p)" : "greedy")}, {kvType} KV cache, {perClient} requests per client, {rounds} rounds, prefix cache off, load average {LoadAverage()}");
    var rates = Widths.ToDictionary(w => w, _ => new List<double>());
    var ttfts = Widths.ToDictionary(w => w, _ => new List<double>());
    for (int round = 0; round < rounds; round++)
        foreach (int clients in Widths)
        {
            int generated = 0;
            var wall = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                for (int r = 0; r < perClient; r++)
                {
                    string prompt = $"Client {c} request {r}: the history of computing began";
                    var (ttft, count) = await StreamAsync(client, $$$"""{"prompt": {{{JsonSerializer.Serialize(prompt)}}}, "max_tokens": {{{budget}}}, "temperature": {{{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}, "seed": {{{c * 100 + r}}}, "stream": true, "stream_options": {"include_usage": true}}""");
                    lock (ttfts) { ttfts[clients].Add(ttft); generated += count; }
                }
            }));
            rates[clients].Add(generated / wall.Elapsed.TotalSeconds);
        }
    Report(rates, ttfts);
}

// The same load straight into the engine, without HTTP: what batching gives before the transport's share.
await using (var server = await DclmServer.StartAsync(Options(prefixEntries: 0)))
{
    await server.Host.Loading;
    var engine = server.Host.Engine!;
    var tokenizer = server.Host.Tokenizer!;
    int budget = Math.Min(tokens, engine.ContextLength - 40);
    Console.WriteLine("engine only (no HTTP):");
    var rates = Widths.ToDictionary(w => w, _ => new List<double>());
    for (int round = 0; round < rounds + 1; round++)
        foreach (int clients in Widths)
        {
            int generated = 0;
            var wall = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                for (int r = 0; r < perClient; r++)
                {
                    var prompt = tokenizer.Encode($"Client {c} request {r}: the history of computing began");
                    var sampling = Dclm.Inference.SamplingOptions.Greedy with { MaxTokens = budget, Temperature = temperature, Seed = (ulong)(c * 100 + r) };
                    var result = await engine.Submit(engine.CreateRequest(prompt, sampling)).CollectAsync();
                    Interlocked.Add(ref generated, result.Usage.CompletionTokens);
                }
            }));
            // The first round compiles the batched paths (tiered JIT) and is not counted.
            if (round > 0) rates[clients].Add(generated / wall.Elapsed.TotalSeconds);
        }
    Report(rates, null);
}

// Second turn of a chat: the same prompt with and without the first turn's KV cached.
double Turn2(DclmServer server, HttpClient client)
{
    // About 20 tokens a sentence; the first turn fills about half the context.
    int repeats = Math.Max(1, (server.Host.Engine!.ContextLength / 2 - 40) / 20);
    string history = string.Join(' ', Enumerable.Repeat("The committee met again to discuss the budget, the schedule and the staffing of the new library.", repeats));
    string first = $$"""{"role": "user", "content": {{JsonSerializer.Serialize(history)}}}""";
    var turn1 = JsonDocument.Parse(client.PostAsync("/v1/chat/completions", Json($$"""{"messages": [{{first}}], "max_tokens": 16, "temperature": 0}""")).Result.Content.ReadAsStringAsync().Result).RootElement;
    string reply = turn1.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    string body = $$"""{"messages": [{{first}}, {"role": "assistant", "content": {{JsonSerializer.Serialize(reply)}}}, {"role": "user", "content": "Summarise that."}], "max_tokens": 1, "temperature": 0, "stream": true}""";
    var (ttft, _) = StreamAsync(client, body).Result;
    return ttft;
}
foreach (int entries in new[] { 0, 16 })
{
    await using var server = await DclmServer.StartAsync(Options(entries));
    await server.Host.Loading;
    using var client = new HttpClient { BaseAddress = server.Address };
    double ttft = Turn2(server, client);
    var s = server.Host.Engine!.Statistics;
    Console.WriteLine($"second chat turn, prefix cache {(entries > 0 ? "on " : "off")}: time to first token {ttft,7:F0} ms, prompt tokens reused {s.PrefixCacheHitTokens}");
}
return 0;

static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

static async Task<(double Ttft, int Tokens)> StreamAsync(HttpClient client, string body)
{
    var started = Stopwatch.GetTimestamp();
    using var request = new HttpRequestMessage(HttpMethod.Post, body.Contains("\"messages\"") ? "/v1/chat/completions" : "/v1/completions") { Content = Json(body) };
    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    double ttft = -1;
    int tokens = 0;
    while (await reader.ReadLineAsync() is { } line)
    {
        if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]") continue;
        var chunk = JsonDocument.Parse(line[6..]).RootElement;
        if (ttft < 0 && chunk.GetProperty("choices").GetArrayLength() > 0 && CarriesToken(chunk.GetProperty("choices")[0])) ttft = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (chunk.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object) tokens = usage.GetProperty("completion_tokens").GetInt32();
    }
    return (ttft, tokens);
}

// The chat stream opens with a role-only chunk; the first token is the first chunk with text or a finish.
static bool CarriesToken(JsonElement choice) =>
    choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String
    || choice.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 }
    || choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 };

static void Report(Dictionary<int, List<double>> rates, Dictionary<int, List<double>>? ttfts)
{
    Console.WriteLine("clients  tokens/s median  (min - max)      speedup (medians)" + (ttfts is null ? "" : "  TTFT p50 ms  TTFT p99 ms"));
    double single = Median(rates[1]);
    foreach (var (clients, values) in rates)
    {
        string line = $"{clients,7}  {Median(values),15:F0}  ({values.Min(),6:F0} - {values.Max(),6:F0})  {Median(values) / single,10:F2}x";
        if (ttfts is not null)
        {
            var sorted = ttfts[clients].Order().ToList();
            line += $"  {Percentile(sorted, 0.5),11:F0}  {Percentile(sorted, 0.99),11:F0}";
        }
        Console.WriteLine(line);
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
