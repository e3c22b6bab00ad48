using Dclm.Embeddings;

namespace Dclm.Rag.Tests;

/// <summary>One all-MiniLM-L6-v2 for every test class that embeds (loading it takes seconds).</summary>
public sealed class MiniLmFixture : IDisposable
{
    public ITextEmbedder Embedder { get; } = EmbedderLoader.Load("minilm");
    public void Dispose() => Embedder.Dispose();
}

[CollectionDefinition("minilm")]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>;
