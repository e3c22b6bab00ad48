using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Dclm.Data.Extraction;
using Dclm.Embeddings;
using Dclm.Formats;
using Dclm.Rag.Dense;
using Dclm.Rag.Documents;
using Dclm.Rag.Lexical;

namespace Dclm.Rag.Indexing;

/// <summary>Settings of one index build.</summary>
public sealed record IndexBuildOptions
{
    /// <summary>Tokens per chunk, counted by the embedder's tokenizer.</summary>
    public int ChunkTokens { get; init; } = 256;
    /// <summary>Tokens shared by consecutive chunks.</summary>
    public int Overlap { get; init; } = 32;
    /// <summary>
    /// Tokens per dense window: each chunk is embedded as consecutive windows of at most this many tokens and
    /// scored by its best window, so every sentence of a long chunk is embedded without being averaged into a
    /// vector of the whole chunk (docs/rag.md). A value at least <see cref="ChunkTokens"/> gives one vector per chunk.
    /// </summary>
    public int WindowTokens { get; init; } = DefaultWindowTokens;
    /// <summary>Tokens shared by consecutive windows of a chunk.</summary>
    public int WindowOverlap { get; init; } = DefaultWindowOverlap;
    /// <summary>
    /// Reuse the chunks and vectors of files unchanged since the index in use was built (same path and
    /// SHA-256), embed only new and changed files, and drop files no longer among the inputs.
    /// </summary>
    public bool Update { get; init; }
    /// <summary>Windows embedded per call.</summary>
    public int EmbedBatch { get; init; } = 64;

    /// <summary>The default <see cref="WindowTokens"/>.</summary>
    public const int DefaultWindowTokens = 128;
    /// <summary>The default <see cref="WindowOverlap"/>.</summary>
    public const int DefaultWindowOverlap = 32;
}

/// <summary>Where a build is: stage, and items done of the stage's total.</summary>
public readonly record struct IndexProgress(string Stage, long Done, long Total);

/// <summary>A file the build could not read, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>Time and volume of one build stage.</summary>
/// <param name="Stage">read, chunk, embed, bm25, hnsw or write.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="TextBytes">UTF-8 bytes of document text the stage processed.</param>
public sealed record StageTiming(string Stage, double Seconds, long TextBytes)
{
    /// <summary>Throughput in MB (10⁶ bytes) of text per second.</summary>
    public double MegabytesPerSecond => Seconds > 0 ? TextBytes / 1e6 / Seconds : double.PositiveInfinity;
}

/// <summary>What a build did.</summary>
/// <param name="Files">Files indexed.</param>
/// <param name="ReusedFiles">Files whose chunks and vectors came from the previous generation.</param>
/// <param name="Chunks">Chunks in the new generation.</param>
/// <param name="EmbeddedChunks">Chunks embedded by this build (the others were reused).</param>
/// <param name="EmbeddedWindows">Dense windows embedded by this build (one or more per embedded chunk).</param>
/// <param name="Skipped">Files that could not be read.</param>
/// <param name="Stages">Time and volume of each stage.</param>
/// <param name="Generation">The new generation's folder name.</param>
public sealed record IndexBuildReport(int Files, int ReusedFiles, int Chunks, int EmbeddedChunks, int EmbeddedWindows, IReadOnlyList<SkippedFile> Skipped, IReadOnlyList<StageTiming> Stages, string Generation);

/// <summary>
/// Builds or updates an index: reads and chunks the input files, embeds the chunks, and writes a new
/// generation (chunks, vectors, HNSW graph, BM25) that replaces the one in use only once complete.
/// </summary>
public sealed class IndexBuilder(ITextEmbedder embedder, string embedderName)
{
    /// <summary>Receives stage progress.</summary>
    public IProgress<IndexProgress>? Progress { get; init; }
    /// <summary>Called at once for each file that cannot be read (the build goes on without it).</summary>
    public Action<SkippedFile>? OnSkipped { get; init; }

    /// <summary>Indexes every file under <paramref name="inputs"/> into the folder <paramref name="index"/>.</summary>
    public IndexBuildReport Build(IEnumerable<string> inputs, string index, IndexBuildOptions options, CancellationToken cancellationToken = default)
    {
        if (options.ChunkTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), $"--chunk-tokens must be at least 1, not {options.ChunkTokens}");
        if (options.Overlap < 0 || options.Overlap >= options.ChunkTokens) throw new ArgumentOutOfRangeException(nameof(options), $"--overlap must lie in [0, {options.ChunkTokens - 1}], not {options.Overlap}");
        if (options.WindowTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), $"--window-tokens must be at least 1, not {options.WindowTokens}");
        if (options.WindowOverlap < 0 || options.WindowOverlap >= options.WindowTokens) throw new ArgumentOutOfRangeException(nameof(options), $"--window-overlap must lie in [0, {options.WindowTokens - 1}], not {options.WindowOverlap}");
        var files = DocumentReader.ExpandInputs(inputs);
        if (File.Exists(index)) throw new IOException($"{index} is a file, not an index folder");
        Directory.CreateDirectory(index);
        using var writerLock = IndexLayout.Lock(index);
        var previous = options.Update ? OpenPrevious(index, options) : null;

        var stages = new List<StageTiming>();
        var skipped = new List<SkippedFile>();
        var clock = Stopwatch.StartNew();
        var extractor = new HtmlTextExtractor();
        // Per file: either the previous generation's chunks and vectors, or new chunks to embed.
        var plans = new List<FilePlan>();
        long readBytes = 0, newTextBytes = 0;
        for (int i = 0; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Progress?.Report(new IndexProgress("read", i, files.Count));
            string path = files[i];
            try
            {
                byte[] bytes = File.ReadAllBytes(path);
                readBytes += bytes.Length;
                string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (previous?.Files.TryGetValue(path, out var old) == true && old.Sha256 == hash)
                {
                    plans.Add(new FilePlan(path, bytes.Length, hash, old, null));
                    continue;
                }
                var documents = DocumentReader.Read(path, extractor);
                plans.Add(new FilePlan(path, bytes.Length, hash, null, documents));
                newTextBytes += documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text));
            }
            catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                var skip = new SkippedFile(path, error.Message.StartsWith(path, StringComparison.Ordinal) ? error.Message[path.Length..].TrimStart(':', ' ') : error.Message);
                skipped.Add(skip);
                OnSkipped?.Invoke(skip);
            }
        }
        stages.Add(new StageTiming("read", clock.Elapsed.TotalSeconds, newTextBytes));

        clock.Restart();
        // The windows of every new chunk, in chunk order: a chunk's windows are cut from its own tokens as the
        // chunks are cut from the document's, so the same code decides both.
        var pendingWindows = new List<string>();
        int newChunkCount = 0;
        foreach (var plan in plans.Where(p => p.Documents is not null))
            foreach (var document in plan.Documents!)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunks = TokenChunker.Split(document.Source, document.Text, embedder.TokenSpans(document.Text), options.ChunkTokens, options.Overlap);
                plan.NewChunks.AddRange(chunks.Select(c => new StoredChunk(c.Source, plan.Path, c.Number, c.Start, c.End, c.Text)));
                foreach (var chunk in chunks)
                {
                    var windows = TokenChunker.Split(chunk.Source, chunk.Text, embedder.TokenSpans(chunk.Text), options.WindowTokens, options.WindowOverlap);
                    if (windows.Count == 0) windows = [chunk]; // a chunk of no tokens (not cut by the chunker) still gets one vector
                    plan.NewWindowCounts.Add(windows.Count);
                    pendingWindows.AddRange(windows.Select(w => w.Text));
                }
                newChunkCount += chunks.Count;
            }
        stages.Add(new StageTiming("chunk", clock.Elapsed.TotalSeconds, newTextBytes));

        clock.Restart();
        var newVectors = new float[pendingWindows.Count][];
        for (int start = 0; start < pendingWindows.Count; start += options.EmbedBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Progress?.Report(new IndexProgress("embed", start, pendingWindows.Count));
            int count = Math.Min(options.EmbedBatch, pendingWindows.Count - start);
            var vectors = embedder.Embed(pendingWindows.GetRange(start, count), cancellationToken);
            for (int k = 0; k < count; k++)
            {
                Pooling.Normalize(vectors[k]);
                newVectors[start + k] = vectors[k];
            }
        }
        Progress?.Report(new IndexProgress("embed", pendingWindows.Count, pendingWindows.Count));
        stages.Add(new StageTiming("embed", clock.Elapsed.TotalSeconds, newTextBytes));

        // Assemble the generation in file order: reused files copy their old chunks and vectors.
        int dimensions = embedder.Dimensions, newIndex = 0;
        var allChunks = new List<StoredChunk>();
        var indexedFiles = new List<IndexedFile>();
        var allVectors = new List<float[]>();
        var windowCounts = new List<int>();
        long totalTextBytes = 0;
        foreach (var plan in plans)
        {
            int first = allChunks.Count;
            long textBytes;
            if (plan.Reused is { } old)
            {
                for (int c = 0; c < old.ChunkCount; c++)
                {
                    allChunks.Add(previous!.Chunks[old.FirstChunk + c]);
                    var (firstWindow, windows) = previous.Windows.WindowsOf(old.FirstChunk + c);
                    for (int w = firstWindow; w < firstWindow + windows; w++) allVectors.Add(previous.Vectors[w].ToArray());
                    windowCounts.Add(windows);
                }
                textBytes = old.TextBytes;
            }
            else
            {
                allChunks.AddRange(plan.NewChunks);
                foreach (int windows in plan.NewWindowCounts)
                {
                    for (int w = 0; w < windows; w++) allVectors.Add(newVectors[newIndex++]);
                    windowCounts.Add(windows);
                }
                textBytes = plan.Documents!.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text));
            }
            totalTextBytes += textBytes;
            indexedFiles.Add(new IndexedFile(plan.Path, plan.Length, plan.Sha256, first, allChunks.Count - first, textBytes));
        }
        var vectorSet = new VectorSet(allVectors.SelectMany(v => v).ToArray(), dimensions);
        var chunkWindows = new ChunkWindows(windowCounts);
        previous?.Dispose();

        string generation = IndexLayout.CreateGeneration(index);
        try
        {
            clock.Restart();
            Progress?.Report(new IndexProgress("bm25", 0, allChunks.Count));
            LexicalIndex.Build(Path.Combine(generation, IndexLayout.Lexical), allChunks.Select(c => c.Text), cancellationToken);
            stages.Add(new StageTiming("bm25", clock.Elapsed.TotalSeconds, totalTextBytes));

            clock.Restart();
            Progress?.Report(new IndexProgress("hnsw", 0, allChunks.Count));
            var graph = HnswGraph.Build(vectorSet, cancellationToken: cancellationToken);
            stages.Add(new StageTiming("hnsw", clock.Elapsed.TotalSeconds, totalTextBytes));

            clock.Restart();
            AtomicFile.Write(Path.Combine(generation, IndexLayout.Chunks), s => StoredChunk.WriteAll(s, allChunks));
            AtomicFile.Write(Path.Combine(generation, IndexLayout.Vectors), vectorSet.Write);
            AtomicFile.Write(Path.Combine(generation, IndexLayout.Windows), chunkWindows.Write);
            AtomicFile.Write(Path.Combine(generation, IndexLayout.Graph), graph.Write);
            var manifest = new IndexManifest
            {
                Embedder = embedderName,
                EmbedderModel = embedder.ModelId,
                Dimensions = dimensions,
                ChunkTokens = options.ChunkTokens,
                Overlap = options.Overlap,
                WindowTokens = options.WindowTokens,
                WindowOverlap = options.WindowOverlap,
                Chunks = allChunks.Count,
                Vectors = vectorSet.Count,
                Files = indexedFiles,
            };
            AtomicFile.Write(Path.Combine(generation, IndexLayout.Manifest), s => System.Text.Json.JsonSerializer.Serialize(s, manifest, IndexManifest.Json));
            cancellationToken.ThrowIfCancellationRequested();
            IndexLayout.Publish(index, generation);
            stages.Add(new StageTiming("write", clock.Elapsed.TotalSeconds, totalTextBytes));
        }
        catch
        {
            IndexLayout.RemoveAllBut(index, IndexLayout.CurrentGeneration(index));
            throw;
        }
        return new IndexBuildReport(indexedFiles.Count, plans.Count(p => p.Reused is not null), allChunks.Count, newChunkCount, pendingWindows.Count, skipped, stages, Path.GetFileName(generation));
    }

    private PreviousIndex? OpenPrevious(string index, IndexBuildOptions options)
    {
        if (IndexLayout.CurrentGeneration(index) is null) return null; // nothing to update: a full build
        var opened = RagIndex.Open(index);
        var m = opened.Manifest;
        if (m.EmbedderModel != embedder.ModelId || m.Dimensions != embedder.Dimensions || m.ChunkTokens != options.ChunkTokens || m.Overlap != options.Overlap
            || m.WindowTokens != options.WindowTokens || m.WindowOverlap != options.WindowOverlap)
        {
            opened.Dispose();
            throw new ArgumentException($"--update needs the settings the index was built with ({m.EmbedderModel}, --chunk-tokens {m.ChunkTokens}, --overlap {m.Overlap}, --window-tokens {m.WindowTokens}, --window-overlap {m.WindowOverlap}); rebuild without --update to change them");
        }
        return new PreviousIndex(opened);
    }

    private sealed class FilePlan(string path, long length, string sha256, IndexedFile? reused, IReadOnlyList<SourceDocument>? documents)
    {
        public string Path { get; } = path;
        public long Length { get; } = length;
        public string Sha256 { get; } = sha256;
        public IndexedFile? Reused { get; } = reused;
        public IReadOnlyList<SourceDocument>? Documents { get; } = documents;
        public List<StoredChunk> NewChunks { get; } = [];
        // NewWindowCounts[c] = how many window vectors new chunk c has.
        public List<int> NewWindowCounts { get; } = [];
    }

    private sealed class PreviousIndex(RagIndex index) : IDisposable
    {
        public Dictionary<string, IndexedFile> Files { get; } = index.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        public IReadOnlyList<StoredChunk> Chunks => index.Chunks;
        public VectorSet Vectors => index.Vectors;
        public ChunkWindows Windows => index.Windows;
        public void Dispose() => index.Dispose();
    }
}
