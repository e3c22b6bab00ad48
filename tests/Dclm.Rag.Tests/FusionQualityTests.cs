using Dclm.Rag.Bench;
using Dclm.Rag.Indexing;
using Dclm.Rag.Search;
using Xunit.Abstractions;

namespace Dclm.Rag.Tests;

/// <summary>
/// Hybrid search must never rank worse than either of the rankings it fuses, measured as the retrieval
/// benchmark measures it (docs/rag.md): a sentence of a random chunk with a third of its words dropped. The
/// corpus is real prose: five State of the Union addresses (1790, 1799, 1800, 1932, 1973; public domain), cut
/// into 101 passages of two sentences, one JSONL document each, so that finding the passage is the test.
/// </summary>
[Collection("minilm")]
public sealed class FusionQualityTests(MiniLmFixture model, ITestOutputHelper output) : IDisposable
{
    private const int QueryCount = 200;
    private readonly string folder = Directory.CreateTempSubdirectory("dclm-rag-fusion-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void HybridFindsAtLeastAsManyPassagesAsBm25AndDenseAlone()
    {
        string index = Path.Combine(folder, "sotu.index");
        new IndexBuilder(model.Embedder, "minilm").Build([Path.Combine(AppContext.BaseDirectory, "fixtures", "sotu-passages.jsonl")], index, new IndexBuildOptions());
        using var rag = RagIndex.Open(index);
        var random = new Random(7);
        var defaultFusion = rag.Fusion;
        string[] rankings = ["bm25", "dense", "hybrid", .. Enum.GetNames<FusionMethod>()];
        var top1 = rankings.ToDictionary(r => r, _ => 0);
        var top5 = rankings.ToDictionary(r => r, _ => 0);
        for (int made = 0; made < QueryCount;)
        {
            var chunk = rag.Chunks[random.Next(rag.Chunks.Count)];
            if (Queries.From(chunk.Text, random) is not { } query) continue;
            made++;
            var vector = rag.EmbedQuery(query, model.Embedder);
            void Count(string ranking, IReadOnlyList<SearchHit> hits)
            {
                if (hits.Count > 0 && hits[0].Chunk.Source == chunk.Source) top1[ranking]++;
                if (hits.Any(h => h.Chunk.Source == chunk.Source)) top5[ranking]++;
            }
            Count("bm25", rag.Search(query, null, 5, SearchMode.Bm25));
            Count("dense", rag.Search(query, vector, 5, SearchMode.Dense));
            Count("hybrid", rag.Search(query, vector, 5, SearchMode.Hybrid));
            foreach (var fusion in Enum.GetValues<FusionMethod>())
            {
                rag.Fusion = fusion;
                Count(fusion.ToString(), rag.Search(query, vector, 5, SearchMode.Hybrid));
            }
            rag.Fusion = defaultFusion;
        }
        foreach (var ranking in rankings) output.WriteLine($"{ranking}: source first {top1[ranking]}, in top 5 {top5[ranking]} of {QueryCount}");

        Assert.True(top5["hybrid"] >= 0.9 * QueryCount, $"hybrid found {top5["hybrid"]} of {QueryCount} in its top 5");
        foreach (var single in new[] { "bm25", "dense" })
        {
            Assert.True(top1["hybrid"] >= top1[single], $"hybrid ranked the passage first {top1["hybrid"]} times, {single} {top1[single]}");
            Assert.True(top5["hybrid"] >= top5[single], $"hybrid had the passage in its top 5 {top5["hybrid"]} times, {single} {top5[single]}");
        }
    }
}
