using Dclm.Models;

namespace Dclm.Checkpoints;

/// <summary>
/// The names of <see cref="PositionEncoding"/> in open_lm's <c>positional_embedding_type</c> and our GGUF
/// <c>{arch}.positional_embedding</c> key, in one place for every reader and writer. <c>rotary_alibi</c> is our
/// extension (RoPE plus ALiBi's per-head bias); open_lm has no such type, so only DclmSharp reads those files.
/// </summary>
public static class PositionEncodingNames
{
    /// <summary>The name written for <paramref name="positions"/>.</summary>
    public static string Name(PositionEncoding positions) => positions switch
    {
        PositionEncoding.Rotary => "rotary",
        PositionEncoding.Alibi => "alibi",
        PositionEncoding.RotaryAlibi => "rotary_alibi",
        PositionEncoding.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(positions), positions, "no name for this position encoding"),
    };

    /// <summary>The encoding named <paramref name="name"/> (open_lm's <c>head_rotary</c> is plain RoPE), or null when unknown.</summary>
    public static PositionEncoding? Parse(string name) => name switch
    {
        "rotary" or "head_rotary" => PositionEncoding.Rotary,
        "alibi" => PositionEncoding.Alibi,
        "rotary_alibi" => PositionEncoding.RotaryAlibi,
        "none" => PositionEncoding.None,
        _ => null,
    };

    /// <summary>The names <see cref="Parse"/> accepts, for error messages.</summary>
    public const string Known = "rotary, head_rotary, alibi, rotary_alibi, none";
}
