namespace Dclm.Rag.Search;

/// <summary>How chunks are ranked for a query.</summary>
public enum SearchMode
{
    /// <summary>BM25 and dense rankings fused (by default a convex combination of their normalised scores).</summary>
    Hybrid,
    /// <summary>Lucene BM25 over the chunk texts only.</summary>
    Bm25,
    /// <summary>Cosine similarity of embeddings only, through the HNSW graph.</summary>
    Dense,
}

/// <summary>One retrieved chunk.</summary>
/// <param name="Id">The chunk's id in the index.</param>
/// <param name="Chunk">The chunk.</param>
/// <param name="Score">BM25 score, cosine similarity, or fused reciprocal-rank score, by mode; higher is better.</param>
public sealed record SearchHit(int Id, Indexing.StoredChunk Chunk, float Score);

/// <summary>How hybrid search combines the BM25 and dense rankings.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal rank fusion, k = 60: ranks only.</summary>
    ReciprocalRank,
    /// <summary>A convex combination of min-max normalised scores.</summary>
    Convex,
}
