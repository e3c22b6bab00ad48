using System.Diagnostics;
using Dclm.Embeddings;
using Dclm.Rag.Search;

namespace Dclm.Rag.Bench;

/// <summary>Retrieval quality and search latency per mode over a built index.</summary>
internal static class QualityBench
{
    public static int Run(BenchOptions options)
    {
        using var index = RagIndex.Open(options.Get("--index", "my.index"));
        using var embedder = EmbedderLoader.Load(index.Manifest.Embedder);
        int seed = options.Int("--seed", 1), queries = options.Int("--queries", 300);
        // Development queries for choosing a setting: another seed, skipping every chunk the test seed's queries
        // come from (--exclude-seed 1), so nothing is fitted to the queries that are reported.
        var excluded = options.Has("--exclude-seed")
            ? Draw(index, options.Int("--exclude-seed", 1)).Take(queries).Select(q => q.Id).ToHashSet()
            : [];
        var m = index.Manifest;
        Console.WriteLine($"index {index.Path}: {index.Chunks.Count} chunks from {m.Files.Count} files, {m.EmbedderModel}, chunks of {m.ChunkTokens} tokens, {m.Vectors} dense windows of {m.WindowTokens} tokens ({m.WindowOverlap} shared)");
        Console.WriteLine(Stats.Machine());

        var modes = new[] { SearchMode.Bm25, SearchMode.Dense, SearchMode.Hybrid };
        var sourceHits = modes.ToDictionary(m => m, _ => 0);
        var chunkHits = modes.ToDictionary(m => m, _ => 0);
        var times = modes.ToDictionary(m => m, _ => new List<double>());
        var embedTimes = new List<double>();
        var defaultFusion = index.Fusion;
        var variants = Enum.GetValues<FusionMethod>();
        var variantSource = variants.ToDictionary(v => v, _ => 0);
        var variantChunk = variants.ToDictionary(v => v, _ => 0);
        var variantTimes = variants.ToDictionary(v => v, _ => new List<double>());
        // Hybrid (default fusion) at other BM25 weights, to choose one on development queries (another seed)
        // before reporting on the test queries: --weights 0.5,1,2 (the dense side's weight is 1).
        var weights = options.Get("--weights", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => double.Parse(w, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var defaultWeight = index.LexicalWeight;
        var weightSource = weights.ToDictionary(w => w, _ => 0);
        var weightChunk = weights.ToDictionary(w => w, _ => 0);
        // Dense hits by where the query's sentence starts in its chunk (quarters of the chunk's text): an encoder
        // that cut the chunk short would miss sentences of the last quarters.
        var quarterQueries = new int[4];
        var quarterDense = new int[4];
        int made = 0, recallFound = 0, recallWanted = 0;
        foreach (var (id, query, position) in Draw(index, seed).Where(q => !excluded.Contains(q.Id)).Take(queries))
        {
            var chunk = index.Chunks[id];
            made++;
            int quarter = Math.Min(3, (int)(position * 4));
            quarterQueries[quarter]++;
            var clock = Stopwatch.StartNew();
            var vector = index.EmbedQuery(query, embedder);
            embedTimes.Add(clock.Elapsed.TotalMilliseconds);
            foreach (var fusion in variants)
            {
                index.Fusion = fusion;
                clock.Restart();
                var fused = index.Search(query, vector, 5, SearchMode.Hybrid);
                variantTimes[fusion].Add(clock.Elapsed.TotalMilliseconds);
                if (fused.Any(h => h.Chunk.Source == chunk.Source)) variantSource[fusion]++;
                if (fused.Any(h => h.Id == id)) variantChunk[fusion]++;
            }
            index.Fusion = defaultFusion;
            foreach (var weight in weights)
            {
                index.LexicalWeight = weight;
                var weighted = index.Search(query, vector, 5, SearchMode.Hybrid);
                if (weighted.Any(h => h.Chunk.Source == chunk.Source)) weightSource[weight]++;
                if (weighted.Any(h => h.Id == id)) weightChunk[weight]++;
            }
            index.LexicalWeight = defaultWeight;
            foreach (var mode in modes)
            {
                clock.Restart();
                var hits = index.Search(query, mode == SearchMode.Bm25 ? null : vector, 5, mode);
                times[mode].Add(clock.Elapsed.TotalMilliseconds);
                if (hits.Any(h => h.Chunk.Source == chunk.Source)) sourceHits[mode]++;
                if (hits.Any(h => h.Id == id)) chunkHits[mode]++;
                if (mode == SearchMode.Dense && hits.Any(h => h.Chunk.Source == chunk.Source)) quarterDense[quarter]++;
            }
            var exact = index.Vectors.ExactSearch(vector, 10).Select(h => h.Id).ToHashSet();
            recallFound += index.Graph.Search(vector, 10, index.SearchBreadth).Count(h => exact.Contains(h.Id));
            recallWanted += exact.Count;
        }
        Console.WriteLine($"{made} queries, seed {seed}{(excluded.Count > 0 ? $", none from the {excluded.Count} chunks of seed {options.Int("--exclude-seed", 1)}'s queries" : "")} (a sentence of a random chunk, a third of its words dropped), top 5:");
        Console.WriteLine("mode     source found   chunk found   search median   p95 (ms)");
        foreach (var mode in modes)
            Console.WriteLine($"{mode,-8} {100.0 * sourceHits[mode] / made,11:F1}%  {100.0 * chunkHits[mode] / made,11:F1}%  {Stats.Percentile(times[mode], 50),13:F2}  {Stats.Percentile(times[mode], 95),6:F2}");
        foreach (var v in variants)
            Console.WriteLine($"hybrid, {v}{(v == defaultFusion ? " (default)" : "")}: source {100.0 * variantSource[v] / made:F1}%, chunk {100.0 * variantChunk[v] / made:F1}%, search median {Stats.Percentile(variantTimes[v], 50):F2} ms, p95 {Stats.Percentile(variantTimes[v], 95):F2} ms");
        foreach (var w in weights)
            Console.WriteLine($"hybrid, {defaultFusion}, BM25 weight {w} (alpha {w / (w + 1):F3}): source {100.0 * weightSource[w] / made:F1}%, chunk {100.0 * weightChunk[w] / made:F1}%");
        Console.WriteLine("dense, source found by where the query's sentence starts in its chunk: " + string.Join(", ",
            Enumerable.Range(0, 4).Select(q => $"quarter {q + 1} {100.0 * quarterDense[q] / Math.Max(1, quarterQueries[q]):F1}% of {quarterQueries[q]}")));
        Console.WriteLine($"query embedding: median {Stats.Percentile(embedTimes, 50):F1} ms, p95 {Stats.Percentile(embedTimes, 95):F1} ms (not in the search times above)");
        Console.WriteLine($"HNSW recall@10 against exact search: {100.0 * recallFound / recallWanted:F2}% (breadth {index.SearchBreadth})");
        return 0;
    }

    // The queries of a seed, endlessly: a random chunk, a sentence of it with a third of its words dropped.
    private static IEnumerable<(int Id, string Query, double Position)> Draw(RagIndex index, int seed)
    {
        var random = new Random(seed);
        while (true)
        {
            int id = random.Next(index.Chunks.Count);
            if (Queries.Make(index.Chunks[id].Text, random) is var (query, position)) yield return (id, query, position);
        }
    }
}
