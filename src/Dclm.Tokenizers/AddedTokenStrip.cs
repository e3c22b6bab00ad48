namespace Dclm.Tokenizers;

/// <summary>
/// Whitespace an added token absorbs when it is found in text (tokenizer.json's <c>lstrip</c> and
/// <c>rstrip</c>): the absorbed spaces disappear instead of being tokenized.
/// </summary>
[Flags]
public enum AddedTokenStrip
{
    /// <summary>Neighbouring whitespace is left alone.</summary>
    None = 0,

    /// <summary>Whitespace right before the token is absorbed.</summary>
    Left = 1,

    /// <summary>Whitespace right after the token is absorbed.</summary>
    Right = 2,
}
