namespace Dclm.Tokenizers;

/// <summary>Turns one fragment of ordinary text (no added tokens inside) into ids.</summary>
internal interface ITextEncoder
{
    void Encode(string text, List<int> output);
}
