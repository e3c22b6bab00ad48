namespace Dclm.Tokenizers;

/// <summary>
/// The role of one vocabulary entry. The numeric values are the ones GGUF stores in
/// <c>tokenizer.ggml.token_type</c>, so a type array read from a file maps onto this enum directly.
/// </summary>
public enum TokenType
{
    /// <summary>An ordinary piece of text produced by merging.</summary>
    Normal = 1,

    /// <summary>The unknown-token placeholder (for example <c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,

    /// <summary>A special control token (BOS, EOS, chat markers); found in text only when special tokens are parsed.</summary>
    Control = 3,

    /// <summary>An added token that is always split out of text before pre-tokenization.</summary>
    UserDefined = 4,

    /// <summary>A reserved slot that is never produced by encoding.</summary>
    Unused = 5,

    /// <summary>A byte-fallback token such as <c>&lt;0x0A&gt;</c> standing for one raw byte.</summary>
    Byte = 6,
}
