using Dclm.Embeddings;
using Dclm.Rag.Dense;
using Dclm.Rag.Indexing;
using Dclm.Rag.Search;

namespace Dclm.Rag.Tests;

/// <summary>
/// Chunks embedded as windows the encoder reads whole, each chunk found by its best window: a sentence at the
/// end of a chunk longer than MiniLM's 254 tokens of text is found, where one vector per chunk never saw it.
/// </summary>
[Collection("minilm")]
public sealed class DenseWindowTests(MiniLmFixture model) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("dclm-rag-windows-").FullName;
    private string Docs => Path.Combine(folder, "docs");

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static readonly string[] GardenSentences =
    [
        "Tomatoes want full sun, deep watering twice a week and a stake to climb as the fruit grows heavy.",
        "Mulch the beds with straw in early summer so the soil keeps its moisture through the dry weeks.",
        "Prune the roses in late winter, cutting each cane just above an outward-facing bud.",
        "Compost made from kitchen scraps and fallen leaves feeds the vegetable patch better than any bag of fertiliser.",
        "Sow carrots thinly in loose, stone-free soil and thin the seedlings once they show their first true leaves.",
        "Slugs can strip young lettuce overnight, so check under the boards at dawn and remove them by hand.",
    ];

    private const string TailSentence = "Every evening at dusk the old lighthouse keeper climbed the spiral stairs to trim the wick of the great lamp and polish its lens.";

    private void WriteCorpus()
    {
        Directory.CreateDirectory(Docs);
        // About 460 tokens of gardening, then one sentence on another subject at the very end.
        var garden = Enumerable.Range(0, 3).SelectMany(_ => GardenSentences).Append(TailSentence);
        File.WriteAllText(Path.Combine(Docs, "garden.txt"), string.Join(' ', garden));
        File.WriteAllText(Path.Combine(Docs, "harbour.txt"), "Fishing boats return to the harbour before the winter storms close the sea lanes, and the crews mend their nets on the quay.");
        File.WriteAllText(Path.Combine(Docs, "railway.txt"), "On remote branch lines the signalman changes the points by hand and lights the lamps of the signal box at night.");
        File.WriteAllText(Path.Combine(Docs, "volcano.txt"), "Volcanoes erupt when magma rises through the crust; lava flows and ash clouds follow an eruption.");
    }

    private RagIndex Build(string name, int windowTokens)
    {
        string index = Path.Combine(folder, name);
        var options = new IndexBuildOptions { ChunkTokens = 512, Overlap = 32, WindowTokens = windowTokens, WindowOverlap = IndexBuildOptions.DefaultWindowOverlap };
        new IndexBuilder(model.Embedder, "minilm").Build([Docs], index, options);
        return RagIndex.Open(index);
    }

    [Fact]
    public void ASentenceAtTheEndOfAChunkLongerThanTheEncoderReadsIsFound()
    {
        WriteCorpus();
        string garden = Path.Combine(Docs, "garden.txt");
        const string query = "the lighthouse keeper climbed the stairs to trim the lamp's wick";
        int gardenTokens = model.Embedder.Tokenize(File.ReadAllText(garden)).Length;
        Assert.InRange(gardenTokens, model.Embedder.MaxTokens + 100, 512); // one chunk, far longer than MiniLM reads

        // One vector per chunk (the window is the whole chunk): MiniLM reads its first 254 tokens, all gardening.
        using (var whole = Build("whole.index", windowTokens: 512))
        {
            Assert.Equal(whole.Chunks.Count, whole.Vectors.Count);
            var hits = whole.Search(query, 4, SearchMode.Dense, model.Embedder);
            Assert.NotEqual(garden, hits[0].Chunk.Source);
        }

        using var windowed = Build("windowed.index", IndexBuildOptions.DefaultWindowTokens);
        var gardenChunk = windowed.Chunks.Select((c, i) => (c, i)).Single(p => p.c.Source == garden).i;
        var (first, count) = windowed.Windows.WindowsOf(gardenChunk);
        Assert.InRange(count, 4, 6);
        Assert.Equal(windowed.Chunks.Count + count - 1, windowed.Vectors.Count); // the short documents are one window each
        var dense = windowed.Search(query, 4, SearchMode.Dense, model.Embedder);
        Assert.Equal(garden, dense[0].Chunk.Source);
        Assert.Equal(garden, windowed.Search(query, 4, SearchMode.Hybrid, model.Embedder)[0].Chunk.Source);
        Assert.Equal(dense.Select(h => h.Id).Distinct(), dense.Select(h => h.Id)); // each chunk once, by its best window

        // The chunk's score is its best window's cosine, and that window holds the tail sentence.
        var vector = windowed.EmbedQuery(query, model.Embedder);
        var best = Enumerable.Range(first, count).MaxBy(w => windowed.Vectors.Similarity(w, vector));
        Assert.Equal(first + count - 1, best);
        Assert.Equal(windowed.Vectors.Similarity(best, vector), dense[0].Score, 5);
    }

    [Fact]
    public void UpdateKeepsTheWindowsOfUnchangedFiles()
    {
        WriteCorpus();
        using (var first = Build("u.index", IndexBuildOptions.DefaultWindowTokens)) { }
        File.WriteAllText(Path.Combine(Docs, "volcano.txt"), "Glaciers carve deep valleys as they slowly move downhill.");
        var options = new IndexBuildOptions { ChunkTokens = 512, Overlap = 32, Update = true };
        var report = new IndexBuilder(model.Embedder, "minilm").Build([Docs], Path.Combine(folder, "u.index"), options);
        Assert.Equal((1, 1), (report.EmbeddedChunks, report.EmbeddedWindows));
        using var index = RagIndex.Open(Path.Combine(folder, "u.index"));
        string garden = Path.Combine(Docs, "garden.txt");
        Assert.Equal(garden, index.Search("lighthouse keeper trims the lamp wick", 1, SearchMode.Dense, model.Embedder)[0].Chunk.Source);
        var changedSettings = new IndexBuildOptions { ChunkTokens = 512, Overlap = 32, WindowTokens = 64, Update = true };
        var error = Assert.Throws<ArgumentException>(() => new IndexBuilder(model.Embedder, "minilm").Build([Docs], Path.Combine(folder, "u.index"), changedSettings));
        Assert.Contains("--window-tokens 128", error.Message);
    }

    [Fact]
    public void WindowMapsRoundTripAndRankChunksByTheirBestWindow()
    {
        var windows = new ChunkWindows([2, 1, 3]);
        Assert.Equal((3, 6), (windows.Chunks, windows.Vectors));
        Assert.Equal([0, 0, 1, 2, 2, 2], Enumerable.Range(0, 6).Select(windows.ChunkOf));
        Assert.Equal((3, 3), windows.WindowsOf(2));
        // Vectors best first: 4 and 5 (chunk 2), 0 (chunk 0), 2 (chunk 1).
        Assert.Equal([(2, 0.9f), (0, 0.7f)], windows.BestChunks([(4, 0.9f), (5, 0.8f), (0, 0.7f), (2, 0.6f)], 2));

        string path = Path.Combine(folder, "windows.bin");
        using (var stream = File.Create(path)) windows.Write(stream);
        var read = ChunkWindows.Read(path);
        Assert.Equal(Enumerable.Range(0, 3).Select(windows.WindowsOf), Enumerable.Range(0, 3).Select(read.WindowsOf));

        var vectors = new VectorSet([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0.6f, 0.8f], 2);
        // Query (0.6, 0.8): chunk 0 = max(0.6, 0.8), chunk 2 = max(0.8, 0.6, 1).
        Assert.Equal(0.8f, windows.Similarity(vectors, 0, [0.6f, 0.8f]), 5);
        Assert.Equal(1f, windows.Similarity(vectors, 2, [0.6f, 0.8f]), 5);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        Assert.Contains("windows.bin", Assert.Throws<InvalidDataException>(() => ChunkWindows.Read(path)).Message);
        Assert.Throws<ArgumentException>(() => new ChunkWindows([1, 0]));
    }
}
