namespace Dclm.Tokenizers;

/// <summary>Turns one fragment of ordinary text (no added tokens inside) into ids.</summary>
internal interface ITextEncoder
{
    /// <param name="text">The fragment.</param>
    /// <param name="atTextStart">Whether the fragment begins the whole input rather than following an added token.</param>
    /// <param name="output">Receives the ids.</param>
    void Encode(string text, bool atTextStart, List<int> output);
}
