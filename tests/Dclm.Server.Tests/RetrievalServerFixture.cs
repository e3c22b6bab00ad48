using Dclm.Embeddings;
using Dclm.Inference.Engine;
using Dclm.Rag.Indexing;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

/// <summary>
/// A server with the tiny chat model, all-MiniLM-L6-v2 and the model's own embeddings at /v1/embeddings, and a small
/// index of four documents (built with MiniLM as `dclm rag index` builds it) for grounded chat.
/// </summary>
public sealed class RetrievalServerFixture : IAsyncLifetime
{
    private readonly string folder = Directory.CreateTempSubdirectory("dclm-server-rag-").FullName;
    public DclmServer Server { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string IndexPath => Path.Combine(folder, "docs.index");
    public string Docs => Path.Combine(folder, "docs");

    public static readonly (string Name, string Text)[] Documents =
    [
        ("volcanoes.txt", "Volcanoes erupt when magma rises through the crust. Lava flows and ash clouds follow an eruption."),
        ("baking.md", "# Bread\n\nKnead the dough for ten minutes, let it rise for an hour, then bake it at 220 degrees until golden."),
        ("tides.txt", "Ocean tides are caused by the gravitational pull of the moon and the sun."),
        ("chess.txt", "In chess, castling moves the king two squares towards a rook, which then jumps over the king."),
    ];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Docs);
        foreach (var (name, text) in Documents) File.WriteAllText(Path.Combine(Docs, name), text);
        using (var embedder = EmbedderLoader.Load("minilm"))
            new IndexBuilder(embedder, "minilm").Build([Docs], IndexPath, new IndexBuildOptions());
        Server = await DclmServer.StartAsync(ServerFixture.Options() with
        {
            Embedders = ["minilm", RetrievalHost.ServedModel],
            RagIndexes = new Dictionary<string, string> { ["docs"] = IndexPath },
            Engine = new EngineOptions { MaxRunningSequences = 4, ContextLength = 512 },
        });
        await Server.Host.Loading;
        await Server.Retrieval.Loading;
        Client = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    public async Task<(int Status, System.Text.Json.JsonElement Body)> PostAsync(string path, string json)
    {
        using var response = await Client.PostAsync(path, ServerFixture.Json(json));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, System.Text.Json.JsonDocument.Parse(text).RootElement.Clone());
    }
}

[CollectionDefinition("retrieval server")]
public sealed class RetrievalServerCollection : ICollectionFixture<RetrievalServerFixture>;
