namespace Dclm.Rag.Search;

/// <summary>How chunks are ranked for a query.</summary>
public enum SearchMode
{
    /// <summary>BM25 and dense rankings fused (by default a convex combination of their scores, see FusionMethod).</summary>
    Hybrid,
    /// <summary>Lucene BM25 over the chunk texts only.</summary>
    Bm25,
    /// <summary>Cosine similarity of embeddings only, through the HNSW graph.</summary>
    Dense,
}

/// <summary>One retrieved chunk.</summary>
/// <param name="Id">The chunk's id in the index.</param>
/// <param name="Chunk">The chunk.</param>
/// <param name="Score">BM25 score, cosine similarity, or fused score (see <see cref="FusionMethod"/>), by mode; higher is better.</param>
public sealed record SearchHit(int Id, Indexing.StoredChunk Chunk, float Score);

/// <summary>How hybrid search combines the BM25 and dense rankings.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal rank fusion, k = 60: ranks only.</summary>
    ReciprocalRank,
    /// <summary>A convex combination of min-max normalised scores, each over its own list (a chunk absent from a list scores 0 there).</summary>
    Convex,
    /// <summary>
    /// A convex combination of scores normalised from their theoretical floor (0 for BM25, −1 for cosine) to the
    /// best candidate, every candidate of either list scored by both methods (the default).
    /// </summary>
    TheoreticalConvex,
    /// <summary>A convex combination of standard scores ((s − μ) / σ over the candidates), every candidate of either list scored by both methods.</summary>
    StandardScore,
}
