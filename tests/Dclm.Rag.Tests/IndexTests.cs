using Dclm.Embeddings;
using Dclm.Rag.Indexing;
using Dclm.Rag.Search;

namespace Dclm.Rag.Tests;

[Collection("minilm")]
public sealed class IndexTests(MiniLmFixture model) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("dclm-rag-").FullName;
    private string Docs => Path.Combine(folder, "docs");
    private string Index => Path.Combine(folder, "my.index");

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private void Write(string name, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Docs, name))!);
        File.WriteAllText(Path.Combine(Docs, name), text);
    }

    private void WriteCorpus()
    {
        Write("volcanoes.txt", "Volcanoes erupt when magma rises through the crust. Lava flows and ash clouds follow an eruption.");
        Write("baking.md", "# Bread\n\nKnead the dough for ten minutes, let it rise for an hour, then bake it at 220 degrees until golden.");
        Write("web/tides.html", "<html><head><title>t</title><script>var x = 'moon';</script></head><body><nav>Home | About</nav><main><p>Ocean tides are caused by the gravitational pull of the moon and the sun.</p></main></body></html>");
        Write("notes.jsonl", """
            {"id": "chess-1", "text": "In chess, castling moves the king two squares towards a rook.", "lang": "en"}
            {"text": "Photosynthesis turns sunlight, water and carbon dioxide into sugar and oxygen."}
            """);
    }

    private IndexBuildReport Build(bool update = false, int chunkTokens = 256, int overlap = 32) =>
        new IndexBuilder(model.Embedder, "minilm").Build([Docs], Index, new IndexBuildOptions { ChunkTokens = chunkTokens, Overlap = overlap, Update = update });

    [Theory]
    [InlineData(SearchMode.Hybrid)]
    [InlineData(SearchMode.Bm25)]
    [InlineData(SearchMode.Dense)]
    public void EveryModeFindsTheDocumentThatAnswers(SearchMode mode)
    {
        WriteCorpus();
        var report = Build();
        Assert.Equal(4, report.Files);
        Assert.Equal(5, report.Chunks);
        using var index = RagIndex.Open(Index);
        var cases = new (string Query, string Source)[]
        {
            ("what makes lava and ash come out of a mountain", Path.Combine(Docs, "volcanoes.txt")),
            ("how long should dough rise before baking", Path.Combine(Docs, "baking.md")),
            ("why does the moon cause tides", Path.Combine(Docs, "web", "tides.html")),
            ("castling the king", "chess-1"),
            ("plants make sugar from sunlight", Path.Combine(Docs, "notes.jsonl") + "#2"),
        };
        foreach (var (query, source) in cases)
        {
            var hits = index.Search(query, 3, mode, model.Embedder);
            Assert.True(hits.Count > 0 && hits[0].Chunk.Source == source, $"{mode} \"{query}\": got {string.Join(", ", hits.Select(h => h.Chunk.Source))}");
            Assert.Equal(hits.OrderByDescending(h => h.Score).Select(h => h.Id), hits.Select(h => h.Id));
        }
        var tides = index.Chunks.Single(c => c.Source.EndsWith("tides.html"));
        Assert.DoesNotContain("Home | About", tides.Text);
        Assert.DoesNotContain("moon';", tides.Text);
    }

    [Fact]
    public void ChunksKeepTheirSourceOffsets()
    {
        string text = string.Join(' ', Enumerable.Range(0, 300).Select(i => $"word{i}"));
        Write("long.txt", text);
        Build(chunkTokens: 40, overlap: 8);
        using var index = RagIndex.Open(Index);
        Assert.True(index.Chunks.Count > 5);
        foreach (var chunk in index.Chunks) Assert.Equal(text[chunk.Start..chunk.End], chunk.Text);
        Assert.Equal(Enumerable.Range(0, index.Chunks.Count), index.Chunks.Select(c => c.Chunk));
    }

    [Fact]
    public void UpdateEmbedsOnlyWhatChangedAndDropsDeletedFiles()
    {
        WriteCorpus();
        Build();
        Write("baking.md", "# Pasta\n\nBoil the pasta in salted water for nine minutes.");
        File.Delete(Path.Combine(Docs, "volcanoes.txt"));
        Write("rivers.txt", "Rivers carry sediment from the mountains down to the sea, building deltas at their mouths.");
        var report = Build(update: true);
        Assert.Equal(4, report.Files);
        Assert.Equal(2, report.ReusedFiles); // tides.html and notes.jsonl
        Assert.Equal(2, report.EmbeddedChunks); // baking.md again and rivers.txt
        using var index = RagIndex.Open(Index);
        Assert.DoesNotContain(index.Chunks, c => c.Source.EndsWith("volcanoes.txt"));
        Assert.Equal(Path.Combine(Docs, "baking.md"), index.Search("how long to boil pasta", 1, SearchMode.Hybrid, model.Embedder)[0].Chunk.Source);
        Assert.Equal(Path.Combine(Docs, "rivers.txt"), index.Search("sediment deltas", 1, SearchMode.Dense, model.Embedder)[0].Chunk.Source);
        Assert.Equal("chess-1", index.Search("castling the king", 1, SearchMode.Dense, model.Embedder)[0].Chunk.Source);
        // Reused vectors equal freshly computed ones: nothing was mixed up while copying.
        var chess = index.Chunks.Select((c, i) => (c, i)).Single(p => p.c.Source == "chess-1");
        var fresh = model.Embedder.Embed([chess.c.Text])[0];
        var (window, windows) = index.Windows.WindowsOf(chess.i);
        Assert.Equal(1, windows); // a short chunk is one window: its whole text
        Assert.Equal(fresh, index.Vectors[window].ToArray());
        Assert.Single(Directory.GetDirectories(Index)); // the old generation is gone
    }

    [Fact]
    public void UnreadableFilesAreReportedByNameAndSkipped()
    {
        WriteCorpus();
        File.WriteAllBytes(Path.Combine(Docs, "binary.txt"), [0x66, 0x6f, 0xff, 0xfe, 0x00, 0xc3]);
        Write("broken.jsonl", "{\"text\": \"fine\"}\n{not json\n");
        var skipped = new List<SkippedFile>();
        var report = new IndexBuilder(model.Embedder, "minilm") { OnSkipped = skipped.Add }.Build([Docs], Index, new IndexBuildOptions());
        Assert.Equal(4, report.Files);
        Assert.Equal(["binary.txt", "broken.jsonl"], skipped.Select(s => Path.GetFileName(s.Path)).Order());
        Assert.Contains("UTF-8", skipped.Single(s => s.Path.EndsWith("binary.txt")).Reason);
        Assert.Contains("line 2", skipped.Single(s => s.Path.EndsWith("broken.jsonl")).Reason);
        Assert.Equal(skipped, report.Skipped);
    }

    [Fact]
    public void AMissingIndexIsAOneLineError()
    {
        var error = Assert.Throws<FileNotFoundException>(() => RagIndex.Open(Path.Combine(folder, "nothing.index")));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("nothing.index", error.Message);
        var missingInput = Assert.Throws<FileNotFoundException>(() => Build());
        Assert.Contains("docs", missingInput.Message);
    }

    [Fact]
    public void AnInterruptedBuildLeavesThePreviousIndexInUse()
    {
        WriteCorpus();
        Build();
        Write("more.txt", "Glaciers carve valleys as they slowly move downhill.");
        using var cancel = new CancellationTokenSource();
        var builder = new IndexBuilder(model.Embedder, "minilm") { Progress = new SyncProgress(p => { if (p.Stage == "hnsw") cancel.Cancel(); }) };
        Assert.ThrowsAny<OperationCanceledException>(() => builder.Build([Docs], Index, new IndexBuildOptions(), cancel.Token));
        using var index = RagIndex.Open(Index);
        Assert.Equal(5, index.Chunks.Count);
        Assert.Single(Directory.GetDirectories(Index));
    }

    [Fact]
    public void ABuildKilledMidWayLeavesThePreviousIndexInUseAndTheNextBuildCleansUp()
    {
        WriteCorpus();
        Build();
        string before = Hits(Index, "magma");
        for (int i = 0; i < 5; i++) Write($"extra{i}.txt", string.Join(' ', Enumerable.Range(0, 40).Select(w => $"topic{i} word{w}")));

        // The build is frozen where its new generation holds BM25 and nothing else yet (the graph is next); the folder is
        // then copied as it stands, which is what kill -9 at that point leaves on disk: nothing runs after the freeze.
        using var frozen = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        using var cancel = new CancellationTokenSource();
        var builder = new IndexBuilder(model.Embedder, "minilm")
        {
            Progress = new SyncProgress(p =>
            {
                if (p.Stage != "hnsw") return;
                frozen.Set();
                release.Wait();
            }),
        };
        var build = Task.Run(() => builder.Build([Docs], Index, new IndexBuildOptions { ChunkTokens = 8, Overlap = 0 }, cancel.Token));
        Assert.True(frozen.Wait(TimeSpan.FromMinutes(5)), "the build never reached its graph");
        string killed = Path.Combine(folder, "killed.index");
        CopyAsKillLeavesIt(Index, killed);
        cancel.Cancel();
        release.Set();
        Assert.ThrowsAny<OperationCanceledException>(() => build.GetAwaiter().GetResult());

        Assert.Equal(2, Directory.GetDirectories(killed).Length); // the one in use and the half-written one
        Assert.Equal(before, Hits(killed, "magma"));
        new IndexBuilder(model.Embedder, "minilm").Build([Docs], killed, new IndexBuildOptions());
        Assert.Single(Directory.GetDirectories(killed));
        Assert.Contains("extra3.txt", Hits(killed, "topic3 word7"));
    }

    private string Hits(string index, string query)
    {
        using var opened = RagIndex.Open(index);
        return string.Join("\n", opened.Search(query, 5, SearchMode.Bm25, model.Embedder).Select(h => $"{h.Chunk.Source} {h.Chunk.Chunk} {h.Score:R}"));
    }

    /// <summary>
    /// A copy of <paramref name="source"/> as a killed writer leaves it: every file as written so far, and the lock file
    /// (held by the frozen writer, so unreadable here; it is empty) present but no longer locked.
    /// </summary>
    private static void CopyAsKillLeavesIt(string source, string target)
    {
        foreach (string directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(target, Path.GetRelativePath(source, file));
            if (Path.GetFileName(file) == IndexLayout.LockFile) File.WriteAllBytes(copy, []);
            else File.Copy(file, copy);
        }
    }

    private sealed class SyncProgress(Action<IndexProgress> report) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value) => report(value);
    }
}
