using Dclm.Embeddings;
using Dclm.Rag.Dense;
using Dclm.Rag.Indexing;
using Dclm.Rag.Lexical;
using Dclm.Rag.Search;

namespace Dclm.Rag;

/// <summary>
/// An index opened for search: the chunks, their window vectors with the HNSW graph, and the BM25 index, all of
/// the generation in use when it was opened (a rebuild meanwhile does not disturb it). Thread-safe.
/// </summary>
public sealed class RagIndex : IDisposable
{
    private readonly LexicalIndex lexical;

    private RagIndex(string path, IndexManifest manifest, List<StoredChunk> chunks, VectorSet vectors, ChunkWindows windows, HnswGraph graph, LexicalIndex lexical)
    {
        Path = path;
        Manifest = manifest;
        Chunks = chunks;
        Vectors = vectors;
        Windows = windows;
        Graph = graph;
        this.lexical = lexical;
    }

    /// <summary>The index folder.</summary>
    public string Path { get; }
    /// <summary>How the index was made and what it holds.</summary>
    public IndexManifest Manifest { get; }
    /// <summary>Every chunk; a chunk's id is its position.</summary>
    public IReadOnlyList<StoredChunk> Chunks { get; }
    /// <summary>(windows, dimensions) unit vectors: one per dense window of every chunk, in chunk order.</summary>
    public VectorSet Vectors { get; }
    /// <summary>Which of <see cref="Vectors"/> belong to which chunk.</summary>
    public ChunkWindows Windows { get; }
    /// <summary>The approximate-nearest-neighbour graph over <see cref="Vectors"/>.</summary>
    public HnswGraph Graph { get; }
    /// <summary>Level-0 candidates a dense search explores (more: better recall, slower).</summary>
    public int SearchBreadth { get; set; } = 96;
    /// <summary>Weight of the BM25 ranking in hybrid fusion; the dense ranking's is 1.</summary>
    public double LexicalWeight { get; set; } = 1;
    /// <summary>
    /// How hybrid search fuses the two rankings: by default a convex combination of both exact scores of every
    /// candidate, normalised from each method's theoretical floor (docs/rag.md compares the methods).
    /// </summary>
    public FusionMethod Fusion { get; set; } = FusionMethod.TheoreticalConvex;
    /// <summary>How deep each ranking goes into hybrid fusion (at least 4 × top-k).</summary>
    public int FusionDepth { get; set; } = 50;

    /// <summary>
    /// Opens the index at <paramref name="path"/>. A folder with no finished index throws
    /// <see cref="FileNotFoundException"/> with a one-line message; damaged files throw <see cref="InvalidDataException"/> naming them.
    /// </summary>
    public static RagIndex Open(string path)
    {
        string? generation = Directory.Exists(path) ? IndexLayout.CurrentGeneration(path) : null;
        if (generation is null) throw new FileNotFoundException($"no index at {path}: build one with `dclm rag index --input DOCS --index {path}`", path);
        var manifest = IndexManifest.Read(System.IO.Path.Combine(generation, IndexLayout.Manifest));
        var chunks = StoredChunk.ReadAll(System.IO.Path.Combine(generation, IndexLayout.Chunks));
        var vectors = VectorSet.Read(System.IO.Path.Combine(generation, IndexLayout.Vectors));
        var windows = ChunkWindows.Read(System.IO.Path.Combine(generation, IndexLayout.Windows));
        if (chunks.Count != manifest.Chunks || windows.Chunks != manifest.Chunks || vectors.Count != manifest.Vectors || windows.Vectors != manifest.Vectors || vectors.Dimensions != manifest.Dimensions)
            throw new InvalidDataException($"{generation}: the manifest names {manifest.Chunks} chunks and {manifest.Vectors} vectors of {manifest.Dimensions} dimensions, the files hold {chunks.Count} chunks, windows of {windows.Chunks} chunks over {windows.Vectors} vectors, and {vectors.Count} vectors of {vectors.Dimensions}");
        var graph = HnswGraph.Read(System.IO.Path.Combine(generation, IndexLayout.Graph), vectors);
        var lexical = LexicalIndex.Open(System.IO.Path.Combine(generation, IndexLayout.Lexical));
        if (lexical.Count != manifest.Chunks)
        {
            lexical.Dispose();
            throw new InvalidDataException($"{generation}: the BM25 index holds {lexical.Count} chunks, the manifest {manifest.Chunks}");
        }
        return new RagIndex(path, manifest, chunks, vectors, windows, graph, lexical);
    }

    /// <summary>
    /// The best <paramref name="topK"/> chunks for <paramref name="query"/>. Dense and hybrid modes need
    /// <paramref name="embedder"/>, the model the index was built with.
    /// </summary>
    public IReadOnlyList<SearchHit> Search(string query, int topK = 5, SearchMode mode = SearchMode.Hybrid, ITextEmbedder? embedder = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (topK < 1) throw new ArgumentOutOfRangeException(nameof(topK), $"top-k must be at least 1, not {topK}");
        float[]? vector = mode == SearchMode.Bm25 ? null : EmbedQuery(query, embedder);
        return Search(query, vector, topK, mode);
    }

    /// <summary>The same search with the query's vector already computed (null for BM25).</summary>
    public IReadOnlyList<SearchHit> Search(string query, float[]? queryVector, int topK, SearchMode mode)
    {
        IReadOnlyList<(int Id, float Score)> ranked = mode switch
        {
            SearchMode.Bm25 => lexical.Search(query, topK),
            SearchMode.Dense => DenseSearch(queryVector ?? throw new ArgumentNullException(nameof(queryVector)), topK),
            _ => Fuse(query, queryVector ?? throw new ArgumentNullException(nameof(queryVector)), topK),
        };
        return ranked.Select(r => new SearchHit(r.Id, Chunks[r.Id], r.Score)).ToList();
    }

    // Each ranking contributes its top FusionDepth: deep enough that a chunk ranked well by one method
    // and moderately by the other is found.
    private IReadOnlyList<(int Id, float Score)> Fuse(string query, float[] vector, int topK)
    {
        int depth = Math.Max(4 * topK, FusionDepth);
        var lexicalRanking = lexical.Search(query, depth);
        var denseRanking = DenseSearch(vector, depth);
        double alpha = LexicalWeight / (LexicalWeight + 1);
        if (Fusion == FusionMethod.Convex) return RankFusion.Convex(lexicalRanking, denseRanking, topK, alpha);
        if (Fusion == FusionMethod.TheoreticalConvex) return RankFusion.TheoreticalConvex(ScoreBoth(query, vector, lexicalRanking, denseRanking), topK, alpha);
        if (Fusion == FusionMethod.StandardScore) return RankFusion.StandardScore(ScoreBoth(query, vector, lexicalRanking, denseRanking), topK, alpha);
        return RankFusion.Fuse([lexicalRanking.Select(h => h.Id).ToList(), denseRanking.Select(h => h.Id).ToList()], topK, weights: [LexicalWeight, 1]);
    }

    // Every chunk of either ranking with both its BM25 score and its cosine similarity: a chunk missing from
    // one list is scored there exactly rather than taken as worst.
    private List<(int Id, float Lexical, float Dense)> ScoreBoth(string query, float[] vector, IReadOnlyList<(int Id, float Score)> lexicalRanking, IReadOnlyList<(int Id, float Score)> denseRanking)
    {
        var lexicalScores = lexicalRanking.ToDictionary(h => h.Id, h => h.Score);
        var missing = denseRanking.Select(h => h.Id).Where(id => !lexicalScores.ContainsKey(id)).ToList();
        var missingScores = lexical.Score(query, missing);
        for (int i = 0; i < missing.Count; i++) lexicalScores[missing[i]] = missingScores[i];
        return lexicalScores.Select(p => (p.Key, p.Value, Windows.Similarity(Vectors, p.Key, vector))).ToList();
    }

    // The best chunks by their best window. The graph ranks windows, and a chunk's windows tend to lie close
    // together, so it is asked for enough windows to hold topK distinct chunks even when each chunk's every
    // window ranks before the next chunk's first.
    private List<(int Id, float Score)> DenseSearch(float[] vector, int topK)
    {
        int windowsPerChunk = (Windows.Vectors + Math.Max(1, Windows.Chunks) - 1) / Math.Max(1, Windows.Chunks);
        int wanted = topK * Math.Max(1, windowsPerChunk) + topK;
        return Windows.BestChunks(Graph.Search(vector, wanted, Math.Max(SearchBreadth, wanted)), topK);
    }

    /// <summary>The query's unit vector, after checking that <paramref name="embedder"/> is the index's model.</summary>
    public float[] EmbedQuery(string query, ITextEmbedder? embedder)
    {
        if (embedder is null) throw new ArgumentNullException(nameof(embedder), "dense and hybrid search need the index's embedder");
        if (embedder.ModelId != Manifest.EmbedderModel || embedder.Dimensions != Manifest.Dimensions)
            throw new ArgumentException($"the index was built with {Manifest.EmbedderModel} ({Manifest.Dimensions} dimensions), not {embedder.ModelId} ({embedder.Dimensions})");
        var vector = embedder.Embed([query])[0];
        Pooling.Normalize(vector);
        return vector;
    }

    /// <summary>Closes the BM25 index.</summary>
    public void Dispose() => lexical.Dispose();
}
