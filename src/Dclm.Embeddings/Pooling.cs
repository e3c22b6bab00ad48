using System.Numerics.Tensors;

namespace Dclm.Embeddings;

/// <summary>How one vector is made from a sequence's hidden states.</summary>
public enum EmbeddingPooling
{
    /// <summary>The mean over every token (sentence-transformers' mean pooling, all-MiniLM-L6-v2's).</summary>
    Mean,
    /// <summary>The first token's state ([CLS] for BERT).</summary>
    First,
    /// <summary>The last token's state (decoder models, where only the last token has seen the whole text).</summary>
    Last,
}

/// <summary>Pooling and normalisation of hidden states into embeddings.</summary>
public static class Pooling
{
    /// <summary>
    /// destination (width) = pooled rows of <paramref name="hidden"/> (tokens, width), then divided by its
    /// L2 norm when <paramref name="normalize"/> (a zero vector stays zero).
    /// </summary>
    public static void Pool(ReadOnlySpan<float> hidden, int tokens, int width, EmbeddingPooling pooling, bool normalize, Span<float> destination)
    {
        if (tokens <= 0) throw new ArgumentOutOfRangeException(nameof(tokens), "pooling needs at least one token");
        if (hidden.Length < tokens * width || destination.Length < width) throw new ArgumentException("hidden or destination is too short");
        var target = destination[..width];
        switch (pooling)
        {
            case EmbeddingPooling.Mean:
                target.Clear();
                for (int t = 0; t < tokens; t++) TensorPrimitives.Add(target, hidden.Slice(t * width, width), target);
                TensorPrimitives.Multiply(target, 1f / tokens, target);
                break;
            case EmbeddingPooling.First:
                hidden[..width].CopyTo(target);
                break;
            case EmbeddingPooling.Last:
                hidden.Slice((tokens - 1) * width, width).CopyTo(target);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "unknown pooling");
        }
        if (normalize) Normalize(target);
    }

    /// <summary>x ← x / ‖x‖₂ (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> x)
    {
        float norm = TensorPrimitives.Norm(x);
        if (norm > 0) TensorPrimitives.Multiply(x, 1 / norm, x);
    }
}
