using Dclm.Chat;
using Dclm.Embeddings;

namespace Dclm.Server.Hosting;

/// <summary>How <c>dclm serve</c> runs: the model host's options, and where it listens, who may call it and how much it takes.</summary>
public sealed record ServerOptions : ModelHostOptions
{
    /// <summary>Address to bind; loopback unless the user opens it up.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Port; 0 picks a free one (see <see cref="DclmServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>When set, every /v1 and token call needs <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public string? ApiKey { get; init; }
    /// <summary>Origins allowed by CORS; empty keeps CORS off.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];
    /// <summary>Largest request body accepted, in bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;
    /// <summary>
    /// Embedding models served at /v1/embeddings: "minilm" (all-MiniLM-L6-v2, built in), the path of a BERT encoder's
    /// .onnx, or <see cref="RetrievalHost.ServedModel"/> for the served decoder's own pooled states. The first answers
    /// requests that name no model.
    /// </summary>
    public IReadOnlyList<string> Embedders { get; init; } = [];
    /// <summary>How the served decoder's embeddings pool its final hidden states (mean or last token).</summary>
    public EmbeddingPooling DecoderPooling { get; init; } = EmbeddingPooling.Mean;
    /// <summary>Indexes that chat completions may ground answers in (the "rag" request field), by name.</summary>
    public IReadOnlyDictionary<string, string> RagIndexes { get; init; } = new Dictionary<string, string>();
    /// <summary>The output-drift alarm: the window of requests and the band of each watched signal (none by default).</summary>
    public DriftOptions Drift { get; init; } = new();
}
