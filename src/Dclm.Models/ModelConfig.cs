using Dclm.Tensors.Ops;

namespace Dclm.Models;

/// <summary>The normalisation used before attention, before the feed-forward and at the end.</summary>
public enum NormKind
{
    /// <summary>LayerNorm with a gain and no bias.</summary>
    LayerNorm,
    /// <summary>RMSNorm with a gain.</summary>
    RmsNorm,
}

/// <summary>Whether and how queries and keys are normalised after their projections, before RoPE.</summary>
public enum QueryKeyNorm
{
    /// <summary>Not normalised (Llama, Qwen2).</summary>
    None,
    /// <summary>
    /// open_lm's qk-norm: the model's <see cref="ModelConfig.Norm"/> over all of Q and over all of K, before the head
    /// split. Gains (heads·headDim) and (kvHeads·headDim).
    /// </summary>
    FullWidth,
    /// <summary>Qwen3: an RMS norm over each head of Q and of K, one gain of head width shared by all heads. Gains (headDim).</summary>
    PerHead,
}

/// <summary>How positions enter attention.</summary>
public enum PositionEncoding
{
    /// <summary>Rotary embeddings on queries and keys.</summary>
    Rotary,
    /// <summary>ALiBi: a per-head linear bias −slope_h · (i − j) on attention scores, no rotation.</summary>
    Alibi,
    /// <summary>No position information (for tests and ablations).</summary>
    None,
    /// <summary>
    /// Rotary embeddings on queries and keys plus ALiBi's per-head bias on the scores:
    /// s_hij = rope(q_i)·rope(k_j)/√d − slope_h·(i − j). Our extension (<c>rotary_alibi</c>); open_lm has no such type.
    /// </summary>
    RotaryAlibi,
}

/// <summary>
/// Hyper-parameters of a decoder-only transformer. Defaults describe DCLM-7B.
/// The model never knows which file format the numbers came from.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Decoder family: the block every layer runs (see <see cref="Models.Architecture"/> for the list).</summary>
    public Architecture Architecture { get; init; } = Architecture.OpenLm;
    /// <summary>Residual width d.</summary>
    public int Dim { get; init; } = 4096;
    /// <summary>Number of transformer blocks.</summary>
    public int Layers { get; init; } = 32;
    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 32;
    /// <summary>Key/value heads (grouped-query attention when fewer than <see cref="Heads"/>).</summary>
    public int KeyValueHeads { get; init; } = 32;
    /// <summary>Feed-forward hidden width; open_lm uses 256·ceil(int(8d/3)/256).</summary>
    public int HiddenDim { get; init; } = 11008;
    /// <summary>Vocabulary size (rows of the embedding and the output head).</summary>
    public int VocabularySize { get; init; } = 50432;
    /// <summary>Longest sequence the model was trained for.</summary>
    public int ContextLength { get; init; } = 2048;
    /// <summary>Epsilon inside every normalisation.</summary>
    public float NormEps { get; init; } = 1e-5f;
    /// <summary>Normalisation kind.</summary>
    public NormKind Norm { get; init; } = NormKind.LayerNorm;
    /// <summary>How Q and K are normalised before RoPE; DCLM-7B normalises each over its full width.</summary>
    public QueryKeyNorm QueryKeyNorm { get; init; } = QueryKeyNorm.FullWidth;
    /// <summary>Whether the Q, K and V projections add a learned bias: a fact of the <see cref="Architecture"/> (Qwen2).</summary>
    public bool AttentionBias => Architecture.AttentionBias;
    /// <summary>Position encoding.</summary>
    public PositionEncoding Positions { get; init; } = PositionEncoding.Rotary;
    /// <summary>Whether queries and keys are rotated (<see cref="PositionEncoding.Rotary"/> or <see cref="PositionEncoding.RotaryAlibi"/>).</summary>
    public bool UsesRotary => Positions is PositionEncoding.Rotary or PositionEncoding.RotaryAlibi;
    /// <summary>Whether scores carry ALiBi's bias (<see cref="PositionEncoding.Alibi"/> or <see cref="PositionEncoding.RotaryAlibi"/>).</summary>
    public bool UsesAlibi => Positions is PositionEncoding.Alibi or PositionEncoding.RotaryAlibi;
    /// <summary>RoPE base θ.</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary>How RoPE pairs dimensions; depends on how Q/K rows were laid out by the checkpoint's writer.</summary>
    public RopeStyle RopeStyle { get; init; } = RopeStyle.HalfSplit;
    /// <summary>Sliding-window attention: a query attends only to the last this-many positions, itself included. 0 = off.</summary>
    public int SlidingWindow { get; init; }
    /// <summary>Output head shares the embedding matrix.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>Width of one head when it is not dim/heads (Qwen3 has 128 whatever its width); 0 = dim/heads.</summary>
    public int HeadDimension { get; init; }

    /// <summary>Width of one head.</summary>
    public int HeadDim => HeadDimension > 0 ? HeadDimension : Dim / Heads;
    /// <summary>Width of all query heads together (the residual width, unless the head width is set apart).</summary>
    public int QueryDim => Heads * HeadDim;
    /// <summary>Width of all key (or value) heads together.</summary>
    public int KeyValueDim => KeyValueHeads * HeadDim;

    /// <summary>open_lm's SwiGLU hidden width for residual width d: 256·ceil(int(8d/3)/256).</summary>
    public static int OpenLmHiddenDim(int dim) => 256 * (int)Math.Ceiling((int)(8.0 * dim / 3) / 256.0);

    /// <summary>A DCLM/open_lm config of the given size, with open_lm's derived hidden width.</summary>
    public static ModelConfig OpenLm(int dim, int layers, int heads, int vocabularySize, int contextLength = 2048) => new()
    {
        Architecture = Architecture.OpenLm, Dim = dim, Layers = layers, Heads = heads, KeyValueHeads = heads,
        HiddenDim = OpenLmHiddenDim(dim), VocabularySize = vocabularySize, ContextLength = contextLength,
    };

    /// <summary>Checks internal consistency and throws with the offending field named.</summary>
    public ModelConfig Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new InvalidDataException("model config: " + message); }
        Require(Dim > 0 && Dim <= 1 << 16, $"dim {Dim} must be in [1, 65536]");
        Require(Layers > 0 && Layers <= 1024, $"layers {Layers} must be in [1, 1024]");
        Require(Heads > 0 && (HeadDimension > 0 || Dim % Heads == 0), $"heads {Heads} must divide dim {Dim}");
        Require(HeadDimension is >= 0 and <= 1024, $"head width {HeadDimension} must be in [0, 1024]");
        Require(Architecture.QueryKeyNorms.Contains(QueryKeyNorm),
            $"{Architecture} models normalise Q and K {string.Join(" or ", Architecture.QueryKeyNorms)}, not {QueryKeyNorm}");
        Require(KeyValueHeads > 0 && Heads % KeyValueHeads == 0, $"key/value heads {KeyValueHeads} must divide heads {Heads}");
        Require(HeadDim % 2 == 0, $"head width {HeadDim} must be even for RoPE");
        Require(HiddenDim > 0 && HiddenDim <= 1 << 20, $"hidden dim {HiddenDim} must be in [1, 1048576]");
        Require(VocabularySize > 0 && VocabularySize <= 1 << 24, $"vocabulary size {VocabularySize} must be in [1, 16777216]");
        Require(ContextLength > 0 && ContextLength <= 1 << 22, $"context length {ContextLength} must be in [1, 4194304]");
        Require(NormEps > 0 && NormEps < 1, $"norm eps {NormEps} must be in (0, 1)");
        Require(RopeTheta > 0, $"rope theta {RopeTheta} must be positive");
        Require(SlidingWindow >= 0, $"sliding window {SlidingWindow} must be 0 (off) or positive");
        return this;
    }
}
