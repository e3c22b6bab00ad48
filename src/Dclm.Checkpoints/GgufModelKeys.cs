using Dclm.Models;
using Dclm.Tensors.Ops;

namespace Dclm.Checkpoints;

/// <summary>
/// GGUF metadata keys and tensor names, shared by the reader and the converter so they cannot drift.
/// The architecture names are <see cref="Models.Architecture.Name"/>: llama.cpp's ("llama", "qwen2", "qwen3"), and our own
/// "openlm" for DCLM/open_lm models, which llama.cpp does not know.
/// </summary>
public static class GgufModelKeys
{
    /// <summary>
    /// How Q and K rows of <paramref name="architecture"/> lie in a GGUF file. llama.cpp's converter permutes Llama's rows so
    /// that RoPE rotates adjacent pairs (its rope type NORM); the others (its NEOX, and our open_lm) keep them as trained.
    /// </summary>
    public static RopeStyle RopeLayout(Models.Architecture architecture) =>
        architecture == Models.Architecture.Llama ? RopeStyle.AdjacentPairs : RopeStyle.HalfSplit;

    public const string Architecture = "general.architecture";
    public const string Name = "general.name";
    public const string FileType = "general.file_type";
    public const string Alignment = "general.alignment";

    public static string ContextLength(string arch) => $"{arch}.context_length";
    public static string EmbeddingLength(string arch) => $"{arch}.embedding_length";
    public static string BlockCount(string arch) => $"{arch}.block_count";
    public static string FeedForwardLength(string arch) => $"{arch}.feed_forward_length";
    public static string HeadCount(string arch) => $"{arch}.attention.head_count";
    public static string HeadCountKv(string arch) => $"{arch}.attention.head_count_kv";
    public static string LayerNormEpsilon(string arch) => $"{arch}.attention.layer_norm_epsilon";
    public static string RmsNormEpsilon(string arch) => $"{arch}.attention.layer_norm_rms_epsilon";
    public static string RopeFreqBase(string arch) => $"{arch}.rope.freq_base";
    public static string RopeDimensionCount(string arch) => $"{arch}.rope.dimension_count";
    public static string VocabSize(string arch) => $"{arch}.vocab_size";
    public static string SlidingWindow(string arch) => $"{arch}.attention.sliding_window";
    public static string KeyLength(string arch) => $"{arch}.attention.key_length";
    public static string ValueLength(string arch) => $"{arch}.attention.value_length";
    /// <summary>Ours: whether Q and K get a LayerNorm over their full width.</summary>
    public static string QkNorm(string arch) => $"{arch}.attention.qk_norm";
    /// <summary>Ours: "rotary", "alibi" or "none".</summary>
    public static string PositionalEmbedding(string arch) => $"{arch}.positional_embedding";
    /// <summary>Ours: whether the output head is the token embedding.</summary>
    public static string TiedEmbeddings(string arch) => $"{arch}.tied_embeddings";

    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";
    public static string Block(int layer, string tensor) => $"blk.{layer}.{tensor}.weight";

    /// <summary>The bias of a block's projection (Qwen2's attn_q, attn_k, attn_v).</summary>
    public static string BlockBias(int layer, string tensor) => $"blk.{layer}.{tensor}.bias";
}
