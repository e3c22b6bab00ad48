using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// GPT-2 style encoding of one text fragment: optional NFC, optional prefix space, pre-tokenizer
/// pieces, each piece's UTF-8 bytes mapped into the byte alphabet and merged by rank. Results are
/// cached per piece because natural text repeats the same words constantly.
/// </summary>
internal sealed class ByteLevelEncoder : ITextEncoder
{
    private const int LongestCachedPiece = 64;

    private readonly TokenizerVocabulary vocabulary;
    private readonly TokenizerTables tables;
    private readonly IPreTokenizer preTokenizer;
    private readonly int[] initialIdOfByte = new int[256];
    private readonly PieceCache cache = new();

    public ByteLevelEncoder(TokenizerVocabulary vocabulary, TokenizerTables tables)
    {
        this.vocabulary = vocabulary;
        this.tables = tables;
        preTokenizer = vocabulary.PreTokenizer switch
        {
            PreTokenizerKind.None => WholeTextPreTokenizer.Instance,
            PreTokenizerKind.Regex => tables.CustomSplit!,
            var kind => new PatternPreTokenizer(kind),
        };
        for (int value = 0; value < 256; value++)
        {
            string character = ByteLevelAlphabet.CharacterOf((byte)value).ToString();
            initialIdOfByte[value] = tables.TokenToId.TryGetValue(character, out int id) ? id : vocabulary.UnknownId ?? -1;
        }
    }

    public void Encode(string text, bool atTextStart, List<int> output)
    {
        if (vocabulary.NormalizeToNfc)
        {
            text = UnicodeNormalization.ToNfc(text);
        }
        if (vocabulary.AddPrefixSpace && !text.StartsWith(' '))
        {
            text = " " + text;
        }
        var pieces = new List<TextPiece>();
        preTokenizer.Split(text, pieces);
        Span<byte> smallBuffer = stackalloc byte[256];
        foreach (var piece in pieces)
        {
            var characters = text.AsSpan(piece.Start, piece.Length);
            int maximum = Encoding.UTF8.GetMaxByteCount(characters.Length);
            Span<byte> bytes = maximum <= smallBuffer.Length ? smallBuffer : new byte[maximum];
            int length = Encoding.UTF8.GetBytes(characters, bytes);
            EncodePiece(bytes[..length], output);
        }
    }

    private void EncodePiece(ReadOnlySpan<byte> bytes, List<int> output)
    {
        string mapped = ByteLevelAlphabet.Encode(bytes);
        if (cache.TryGetValue(mapped, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        if (vocabulary.IgnoreMerges && tables.TokenToId.TryGetValue(mapped, out int wholeId))
        {
            output.Add(wholeId);
            return;
        }
        var symbols = new int[bytes.Length];
        int count = 0;
        foreach (byte value in bytes)
        {
            // A byte missing from the alphabet (never in real vocabularies) becomes unknown or is dropped.
            if (initialIdOfByte[value] >= 0)
            {
                symbols[count++] = initialIdOfByte[value];
            }
        }
        int kept = BytePairMerger.Merge(symbols.AsSpan(0, count), tables.Merges);
        var result = symbols.AsSpan(0, kept);
        output.AddRange(result);
        if (mapped.Length <= LongestCachedPiece)
        {
            cache.Add(mapped, result.ToArray());
        }
    }
}
