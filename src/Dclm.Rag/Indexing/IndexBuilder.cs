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
    /// Reuse the chunks and vectors of files unchanged since the index in use was built (same path and
    /// SHA-256), embed only new and changed files, and drop files no longer among the inputs.
    /// </summary>
    public bool Update { get; init; }
    /// <summary>Chunks embedded per call.</summary>
    public int EmbedBatch { get; init; } = 64;
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
public sealed record IndexBuildReport(int Files, int ReusedFiles, int Chunks, int EmbeddedChunks, IReadOnlyList<SkippedFile> Skipped, IReadOnlyList<StageTiming> Stages, string Generation);

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
        var pending = new List<(FilePlan Plan, Chunk Chunk)>();
        foreach (var plan in plans.Where(p => p.Documents is not null))
            foreach (var document in plan.Documents!)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunks = TokenChunker.Split(document.Source, document.Text, embedder.TokenSpans(document.Text), options.ChunkTokens, options.Overlap);
                plan.NewChunks.AddRange(chunks.Select(c => new StoredChunk(c.Source, plan.Path, c.Number, c.Start, c.End, c.Text)));
                pending.AddRange(chunks.Select(c => (plan, c)));
            }
        stages.Add(new StageTiming("chunk", clock.Elapsed.TotalSeconds, newTextBytes));

        clock.Restart();
        var newVectors = new float[pending.Count][];
        for (int start = 0; start < pending.Count; start += options.EmbedBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Progress?.Report(new IndexProgress("embed", start, pending.Count));
            int count = Math.Min(options.EmbedBatch, pending.Count - start);
            var vectors = embedder.Embed(pending.GetRange(start, count).Select(p => p.Chunk.Text).ToArray(), cancellationToken);
            for (int k = 0; k < count; k++)
            {
                Pooling.Normalize(vectors[k]);
                newVectors[start + k] = vectors[k];
            }
        }
        Progress?.Report(new IndexProgress("embed", pending.Count, pending.Count));
        stages.Add(new StageTiming("embed", clock.Elapsed.TotalSeconds, newTextBytes));

        // Assemble the generation in file order: reused files copy their old chunks and vectors.
        int dimensions = embedder.Dimensions, newIndex = 0;
        var allChunks = new List<StoredChunk>();
        var indexedFiles = new List<IndexedFile>();
        var allVectors = new List<float[]>();
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
                    allVectors.Add(previous.Vectors[old.FirstChunk + c].ToArray());
                }
                textBytes = old.TextBytes;
            }
            else
            {
                allChunks.AddRange(plan.NewChunks);
                for (int c = 0; c < plan.NewChunks.Count; c++) allVectors.Add(newVectors[newIndex++]);
                textBytes = plan.Documents!.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text));
            }
            totalTextBytes += textBytes;
            indexedFiles.Add(new IndexedFile(plan.Path, plan.Length, plan.Sha256, first, allChunks.Count - first, textBytes));
        }
        var vectorSet = new VectorSet(allVectors.SelectMany(v => v).ToArray(), dimensions);
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
            AtomicFile.Write(Path.Combine(generation, IndexLayout.Graph), graph.Write);
            var manifest = new IndexManifest
            {
                Embedder = embedderName,
                EmbedderModel = embedder.ModelId,
                Dimensions = dimensions,
                ChunkTokens = options.ChunkTokens,
                Overlap = options.Overlap,
                Chunks = allChunks.Count,
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
        return new IndexBuildReport(indexedFiles.Count, plans.Count(p => p.Reused is not null), allChunks.Count, pending.Count, skipped, stages, Path.GetFileName(generation));
    }

    private PreviousIndex? OpenPrevious(string index, IndexBuildOptions options)
    {
        if (IndexLayout.CurrentGeneration(index) is null) return null; // nothing to update: a full build
        var opened = RagIndex.Open(index);
        var m = opened.Manifest;
        if (m.EmbedderModel != embedder.ModelId || m.Dimensions != embedder.Dimensions || m.ChunkTokens != options.ChunkTokens || m.Overlap != options.Overlap)
        {
            opened.Dispose();
            throw new ArgumentException($"--update needs the settings the index was built with ({m.EmbedderModel}, --chunk-tokens {m.ChunkTokens}, --overlap {m.Overlap}); rebuild without --update to change them");
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
    }

    private sealed class PreviousIndex(RagIndex index) : IDisposable
    {
        public Dictionary<string, IndexedFile> Files { get; } = index.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        public IReadOnlyList<StoredChunk> Chunks => index.Chunks;
        public VectorSet Vectors => index.Vectors;
        public void Dispose() => index.Dispose();
    }
}
