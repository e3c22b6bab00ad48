namespace Dclm.Embeddings;

/// <summary>
/// Turns texts into fixed-width vectors with one model. Implementations are thread-safe (calls may be
/// serialised inside) and truncate a text longer than <see cref="MaxTokens"/>.
/// </summary>
public interface ITextEmbedder : IDisposable
{
    /// <summary>The model's name as reported to API clients.</summary>
    string ModelId { get; }

    /// <summary>Length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>Longest input, in the model's tokens, that is embedded whole.</summary>
    int MaxTokens { get; }

    /// <summary>Whether the vectors have unit length (cosine similarity is then a dot product).</summary>
    bool Normalized { get; }

    /// <summary>One vector per text, in order.</summary>
    float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>
    /// The spans ([start, end) UTF-16 indices of <paramref name="text"/>) of the model's tokens, for
    /// cutting text into pieces a given number of tokens long.
    /// </summary>
    IReadOnlyList<(int Start, int End)> TokenSpans(string text);
}
