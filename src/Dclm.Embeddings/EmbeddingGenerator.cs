using Microsoft.Extensions.AI;

namespace Dclm.Embeddings;

/// <summary>
/// An <see cref="ITextEmbedder"/> as Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>,
/// so Semantic Kernel and Microsoft.Extensions.VectorData take it directly. The models here produce one
/// width only: <see cref="EmbeddingGenerationOptions.Dimensions"/> other than <see cref="ITextEmbedder.Dimensions"/>
/// is refused (cutting a vector short is only meaningful for models trained for it).
/// </summary>
public sealed class EmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ITextEmbedder embedder;
    private readonly bool ownsEmbedder;

    /// <summary>Wraps <paramref name="embedder"/>; disposes it with this generator when <paramref name="ownsEmbedder"/>.</summary>
    public EmbeddingGenerator(ITextEmbedder embedder, bool ownsEmbedder = false)
    {
        this.embedder = embedder;
        this.ownsEmbedder = ownsEmbedder;
        Metadata = new EmbeddingGeneratorMetadata("dclm", null, embedder.ModelId, embedder.Dimensions);
    }

    /// <summary>Provider "dclm", the model id and its width.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int dimensions && dimensions != embedder.Dimensions)
            throw new NotSupportedException($"{embedder.ModelId} produces {embedder.Dimensions}-dimensional vectors only; {dimensions} were asked for");
        var texts = values.ToArray();
        // The encoder is CPU-bound: run it off the caller's thread so an async caller is not blocked.
        return Task.Run(() =>
        {
            var vectors = embedder.Embed(texts, cancellationToken);
            var created = DateTimeOffset.UtcNow;
            var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = embedder.ModelId, CreatedAt = created }));
            return result;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(embedder)) return embedder;
        return null;
    }

    /// <summary>Disposes the embedder when this generator owns it.</summary>
    public void Dispose()
    {
        if (ownsEmbedder) embedder.Dispose();
    }
}
