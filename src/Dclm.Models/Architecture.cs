using Dclm.Models.Architectures;
using Dclm.Models.Blocks;

namespace Dclm.Models;

/// <summary>
/// A decoder family: the block every layer runs (one file per architecture under Architectures/, as llama.cpp keeps
/// src/models/*.cpp) and the names checkpoints give it. The lines below are the registry of every architecture
/// the model runs: adding one means adding its block file and one line here. Readers of checkpoints, exporters
/// and other backends learn what an architecture is from these facts and the <see cref="ModelConfig"/>.
/// </summary>
public sealed class Architecture
{
    private static readonly List<Architecture> registry = [];

    // Names: the GGUF general.architecture first, then other Hugging Face model_types; q/k norms its checkpoints
    // may have (the first is what they have by default); whether Q, K and V carry biases; the block.
    /// <summary>open_lm / DCLM: gain-only LayerNorm, qk-norm over the full width, fused Q|K|V and gate|up, half-split RoPE.</summary>
    public static readonly Architecture OpenLm = new(nameof(OpenLm), ["openlm", "open_lm"], [QueryKeyNorm.FullWidth, QueryKeyNorm.None], false, c => new OpenLmBlock(c));
    /// <summary>Llama (and Mistral): RMSNorm, grouped-query attention, RoPE, SwiGLU.</summary>
    public static readonly Architecture Llama = new(nameof(Llama), ["llama", "mistral"], [QueryKeyNorm.None], false, _ => new LlamaBlock());
    /// <summary>Qwen2 and Qwen2.5: Llama with biases on Q, K and V.</summary>
    public static readonly Architecture Qwen2 = new(nameof(Qwen2), ["qwen2"], [QueryKeyNorm.None], true, _ => new Qwen2Block());
    /// <summary>Qwen3: Llama with an RMS norm on each head of Q and K, and a head width of its own.</summary>
    public static readonly Architecture Qwen3 = new(nameof(Qwen3), ["qwen3"], [QueryKeyNorm.PerHead], false, c => new Qwen3Block(c));

    private readonly Func<ModelConfig, DecoderBlock> _createBlock;

    private Architecture(string title, string[] names, QueryKeyNorm[] queryKeyNorms, bool attentionBias, Func<ModelConfig, DecoderBlock> createBlock)
    {
        Title = title;
        Names = names;
        QueryKeyNorms = queryKeyNorms;
        AttentionBias = attentionBias;
        _createBlock = createBlock;
        registry.Add(this);
    }

    /// <summary>Every architecture, in registry order.</summary>
    public static IReadOnlyList<Architecture> All => registry;

    /// <summary>The name people read, e.g. "OpenLm", "Qwen3".</summary>
    public string Title { get; }
    /// <summary>The GGUF <c>general.architecture</c> name: llama.cpp's, or ours ("openlm") where llama.cpp has none.</summary>
    public string Name => Names[0];
    /// <summary>Every name checkpoints use for it: <see cref="Name"/>, then Hugging Face <c>model_type</c>s.</summary>
    public IReadOnlyList<string> Names { get; }
    /// <summary>The q/k normalisations its checkpoints may have; the first is what they have unless their config says otherwise.</summary>
    public IReadOnlyList<QueryKeyNorm> QueryKeyNorms { get; }
    /// <summary>Whether its Q, K and V projections add a learned bias.</summary>
    public bool AttentionBias { get; }

    /// <summary>The architecture one of whose <see cref="Names"/> is <paramref name="name"/>, or null.</summary>
    public static Architecture? Find(string name) => registry.FirstOrDefault(a => a.Names.Contains(name));

    /// <summary>Every name of every architecture, for error messages: "openlm, open_lm, llama, ...".</summary>
    public static string KnownNames => string.Join(", ", registry.SelectMany(a => a.Names));

    /// <summary>The block that runs one layer of a model of this architecture.</summary>
    internal DecoderBlock CreateBlock(ModelConfig config) => _createBlock(config);

    /// <inheritdoc/>
    public override string ToString() => Title;
}
