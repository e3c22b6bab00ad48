using Dclm.Chat;
using Dclm.Embeddings;
using Dclm.Rag;
using Dclm.Tensors.Compute;

namespace Dclm.Server.Hosting;

/// <summary>An embedding model the server answers /v1/embeddings with.</summary>
/// <param name="Name">What the user gave to <c>--embedder</c> ("minilm", a path, or "model").</param>
/// <param name="Embedder">The model; its <see cref="ITextEmbedder.ModelId"/> is the name clients pass as "model".</param>
public sealed record ServedEmbedder(string Name, ITextEmbedder Embedder);

/// <summary>An index chat completions can ground answers in.</summary>
/// <param name="Name">The name requests give as <c>"rag": {"index": …}</c>.</param>
/// <param name="Index">The opened index.</param>
/// <param name="Embedder">The model the index was built with, for dense and hybrid search.</param>
public sealed record ServedIndex(string Name, RagIndex Index, ITextEmbedder Embedder);

/// <summary>
/// The embedding models and retrieval indexes of a server, loaded in the background beside the model: the
/// sentence embedders and indexes at once, the served decoder's own embedder when its model has loaded.
/// </summary>
public sealed class RetrievalHost : IDisposable
{
    /// <summary>The <c>--embedder</c> name of the served decoder's own embeddings.</summary>
    public const string ServedModel = "model";

    private readonly ServerOptions options;
    private readonly ModelHost model;
    private readonly ComputePool? pool;
    private readonly List<ITextEmbedder> owned = [];
    private volatile IReadOnlyList<ServedEmbedder> embedders = [];
    private volatile IReadOnlyDictionary<string, ServedIndex> indexes = new Dictionary<string, ServedIndex>();

    /// <summary>Starts loading what <paramref name="options"/> names; the decoder's embedder waits for <paramref name="model"/>.</summary>
    public RetrievalHost(ServerOptions options, ModelHost model)
    {
        this.options = options;
        this.model = model;
        bool encoders = options.Embedders.Any(e => e != ServedModel) || options.RagIndexes.Count > 0;
        pool = encoders ? new ComputePool(options.Threads > 0 ? options.Threads : Environment.ProcessorCount) : null;
        Loading = options.Embedders.Count == 0 && options.RagIndexes.Count == 0 ? Task.CompletedTask : Task.Run(LoadAsync);
    }

    /// <summary>Completes when everything is loaded (or faults with the first error).</summary>
    public Task Loading { get; }
    /// <summary>The load error, if loading failed.</summary>
    public string? LoadError { get; private set; }
    /// <summary>Whether anything is served at /v1/embeddings.</summary>
    public bool ServesEmbeddings => options.Embedders.Count > 0;
    /// <summary>The embedding models, in the order given; empty until loaded.</summary>
    public IReadOnlyList<ServedEmbedder> Embedders => embedders;
    /// <summary>The indexes by name; empty until loaded.</summary>
    public IReadOnlyDictionary<string, ServedIndex> Indexes => indexes;
    /// <summary>Whether every embedder and index has loaded.</summary>
    public bool IsReady => Loading.IsCompletedSuccessfully;

    /// <summary>The embedder a request names by its model id or by its <c>--embedder</c> name; the first when <paramref name="name"/> is empty.</summary>
    public ServedEmbedder? FindEmbedder(string? name)
    {
        var list = embedders;
        if (string.IsNullOrEmpty(name)) return list.Count > 0 ? list[0] : null;
        return list.FirstOrDefault(e => e.Embedder.ModelId == name) ?? list.FirstOrDefault(e => e.Name == name);
    }

    private async Task LoadAsync()
    {
        try
        {
            var byName = new Dictionary<string, ITextEmbedder>(StringComparer.Ordinal);
            ITextEmbedder Open(string name)
            {
                if (byName.TryGetValue(name, out var existing)) return existing;
                var embedder = EmbedderLoader.Load(name, pool: pool);
                owned.Add(embedder);
                return byName[name] = embedder;
            }
            var served = new List<ServedEmbedder>();
            foreach (string name in options.Embedders.Where(e => e != ServedModel)) served.Add(new ServedEmbedder(name, Open(name)));
            var opened = new Dictionary<string, ServedIndex>(StringComparer.Ordinal);
            foreach (var (name, path) in options.RagIndexes)
            {
                var index = RagIndex.Open(path);
                try { opened[name] = new ServedIndex(name, index, Open(index.Manifest.Embedder)); }
                catch { index.Dispose(); throw; }
            }
            indexes = opened;
            if (options.Embedders.Contains(ServedModel))
            {
                await model.Loading;
                var decoder = new DecoderEmbedder(model.ModelId, model.Model!, model.Tokenizer!, options.DecoderPooling, maxTokens: model.Engine!.ContextLength);
                owned.Add(decoder);
                served.Insert(options.Embedders.TakeWhile(e => e != ServedModel).Count(), new ServedEmbedder(ServedModel, decoder));
            }
            embedders = served;
        }
        catch (Exception e)
        {
            LoadError = e.Message;
            throw;
        }
    }

    /// <summary>Closes the indexes and frees the embedders.</summary>
    public void Dispose()
    {
        try { Loading.Wait(); } catch (AggregateException) { }
        foreach (var index in indexes.Values) index.Index.Dispose();
        foreach (var embedder in owned) embedder.Dispose();
        pool?.Dispose();
    }
}
