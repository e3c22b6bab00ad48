namespace Dclm.Tokenizers;

/// <summary>How byte-level BPE text is cut into pieces before merging.</summary>
public enum PreTokenizerKind
{
    /// <summary>No splitting: the whole text fragment is merged as one piece.</summary>
    None,

    /// <summary>
    /// GPT-2's pattern <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>
    /// (also GPT-NeoX and DCLM).
    /// </summary>
    Gpt2,

    /// <summary>
    /// Llama 3's pattern: case-insensitive contractions, one optional non-letter before a letter run,
    /// digits in groups of at most three, punctuation runs that keep trailing newlines.
    /// </summary>
    Llama3,

    /// <summary>Qwen 2's pattern: the Llama 3 pattern with single-digit number pieces.</summary>
    Qwen2,

    /// <summary>
    /// Any other regular expression (from a tokenizer.json <c>Split</c>), run with .NET's regex engine;
    /// matches and the gaps between them both become pieces.
    /// </summary>
    Regex,
}
