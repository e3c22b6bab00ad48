namespace Dclm.Embeddings;

/// <summary>
/// Turns texts into fixed-width vectors with one model. Implementations are thread-safe (calls may be
/// serialised inside) and truncate a text longer than <see cref="MaxTokens"/>.
/// </summary>
/// <remarks>
/// A text reaches the model in two steps that callers may take apart (the server does, to count and refuse
/// over-long inputs): <see cref="Tokenize"/> gives the text's own tokens, <see cref="Frame"/> adds the model's
/// special tokens ([CLS] and [SEP], or a decoder's beginning-of-sequence) and cuts to <see cref="MaxTokens"/>,
/// and <see cref="EmbedTokens"/> embeds framed inputs.
/// </remarks>
public interface ITextEmbedder : IDisposable
{
    /// <summary>The model's name as reported to API clients.</summary>
    string ModelId { get; }

    /// <summary>Length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>Longest input, in the model's tokens with its special tokens, that is embedded whole.</summary>
    int MaxTokens { get; }

    /// <summary>Whether the vectors have unit length (cosine similarity is then a dot product).</summary>
    bool Normalized { get; }

    /// <summary>Token ids run from 0 to this, exclusive.</summary>
    int VocabularySize { get; }

    /// <summary>How many special tokens <see cref="Frame"/> adds around a text's tokens.</summary>
    int SpecialTokenCount { get; }

    /// <summary>The tokens of <paramref name="text"/>, without special tokens and never cut.</summary>
    int[] Tokenize(string text);

    /// <summary>The model's input for a text of <paramref name="tokens"/>: its special tokens added, the text cut so the whole is at most <see cref="MaxTokens"/>.</summary>
    int[] Frame(ReadOnlySpan<int> tokens);

    /// <summary>One vector per framed input (see <see cref="Frame"/>), in order.</summary>
    float[][] EmbedTokens(IReadOnlyList<int[]> inputs, CancellationToken cancellationToken = default);

    /// <summary>
    /// The spans ([start, end) UTF-16 indices of <paramref name="text"/>) of the model's tokens, for
    /// cutting text into pieces a given number of tokens long.
    /// </summary>
    IReadOnlyList<(int Start, int End)> TokenSpans(string text);
}

/// <summary>Texts through an <see cref="ITextEmbedder"/>'s three steps.</summary>
public static class TextEmbedderExtensions
{
    /// <summary>One vector per text, in order; texts longer than <see cref="ITextEmbedder.MaxTokens"/> are cut.</summary>
    public static float[][] Embed(this ITextEmbedder embedder, IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var inputs = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++) inputs[i] = embedder.Frame(embedder.Tokenize(texts[i] ?? throw new ArgumentNullException(nameof(texts), $"text {i} is null")));
        return embedder.EmbedTokens(inputs, cancellationToken);
    }
}
