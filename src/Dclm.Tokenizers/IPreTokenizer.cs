namespace Dclm.Tokenizers;

/// <summary>Cuts a text fragment into the pieces that BPE merges independently.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends character ranges that cover <paramref name="text"/> in order, without gaps.</summary>
    void Split(string text, List<TextPiece> pieces);
}

/// <summary>A range of UTF-16 characters inside a text fragment.</summary>
internal readonly record struct TextPiece(int Start, int Length);

/// <summary>The pre-tokenizer that keeps a fragment whole.</summary>
internal sealed class WholeTextPreTokenizer : IPreTokenizer
{
    public static readonly WholeTextPreTokenizer Instance = new();

    public void Split(string text, List<TextPiece> pieces)
    {
        if (text.Length > 0)
        {
            pieces.Add(new TextPiece(0, text.Length));
        }
    }
}
