using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// SentencePiece style encoding of one text fragment: spaces become '▁', a '▁' is prepended (the dummy
/// prefix; fragments always start the text or follow an added token, which is where both llama.cpp and
/// Hugging Face's legacy normalizer add it; see <see cref="DummyPrefixRule"/> for Metaspace's rules), then the whole fragment is merged: by merge rank when the vocabulary lists merges
/// (tokenizer.json), by piece score otherwise (GGUF). Code points outside the vocabulary become byte tokens.
/// When no piece has '▁' right after another character (true of Llama and Mistral vocabularies), no merge
/// can cross the start of a '▁'-word, so each word is merged on its own and cached: same ids, far faster.
/// </summary>
internal sealed class SentencePieceEncoder : ITextEncoder
{
    private const char SpaceMarker = '\u2581';

    private readonly TokenizerVocabulary vocabulary;
    private readonly TokenizerTables tables;
    private readonly ScoredPieceMerger? scoredMerger;
    private readonly bool mergesStayInsideWords;
    private readonly PieceCache cache = new();
    private const int LongestCachedWord = 64;

    public SentencePieceEncoder(TokenizerVocabulary vocabulary, TokenizerTables tables)
    {
        this.vocabulary = vocabulary;
        this.tables = tables;
        if (vocabulary.Merges.Count == 0)
        {
            scoredMerger = new ScoredPieceMerger(tables.TokenToId, vocabulary.Scores, tables.ByteTokens);
        }
        mergesStayInsideWords = !vocabulary.Tokens.Any(HasMarkerAfterOtherCharacter);
    }

    private static bool HasMarkerAfterOtherCharacter(string token)
    {
        for (int index = 1; index < token.Length; index++)
        {
            if (token[index] == SpaceMarker && token[index - 1] != SpaceMarker)
            {
                return true;
            }
        }
        return false;
    }

    public void Encode(string text, bool atTextStart, List<int> output)
    {
        if (text.Length == 0)
        {
            return;
        }
        if (vocabulary.NormalizeToNfc)
        {
            text = UnicodeNormalization.ToNfc(text);
        }
        bool addPrefix = vocabulary.AddPrefixSpace && vocabulary.DummyPrefix switch
        {
            DummyPrefixRule.EveryFragmentWithoutSpace => text[0] is not (' ' or SpaceMarker),
            DummyPrefixRule.TextStartWithoutSpace => atTextStart && text[0] is not (' ' or SpaceMarker),
            _ => true,
        };
        string escaped = (addPrefix ? SpaceMarker + text : text).Replace(' ', SpaceMarker);
        if (!mergesStayInsideWords)
        {
            EncodeWord(escaped, output);
            return;
        }
        int wordStart = 0;
        for (int index = 1; index <= escaped.Length; index++)
        {
            if (index == escaped.Length || (escaped[index] == SpaceMarker && escaped[index - 1] != SpaceMarker))
            {
                EncodeCachedWord(escaped.Substring(wordStart, index - wordStart), output);
                wordStart = index;
            }
        }
    }

    private void EncodeCachedWord(string word, List<int> output)
    {
        if (cache.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int start = output.Count;
        EncodeWord(word, output);
        if (word.Length <= LongestCachedWord)
        {
            cache.Add(word, output.GetRange(start, output.Count - start).ToArray());
        }
    }

    private void EncodeWord(string word, List<int> output)
    {
        if (scoredMerger is not null)
        {
            scoredMerger.Encode(word, output);
        }
        else
        {
            EncodeByRank(word, output);
        }
    }

    // Hugging Face BPE: one symbol per code point (byte tokens or the unknown token when a code point is
    // not a piece, consecutive unknowns fused), then rank-ordered merging.
    private void EncodeByRank(string text, List<int> output)
    {
        var lookup = tables.TokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        var symbols = new List<int>(text.Length);
        var byteIds = new List<int>(4);
        Span<byte> bytes = stackalloc byte[4];
        int? unknown = vocabulary.UnknownId;
        for (int index = 0; index < text.Length;)
        {
            int width = char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]) ? 2 : 1;
            var character = text.AsSpan(index, width);
            index += width;
            if (lookup.TryGetValue(character, out int id))
            {
                symbols.Add(id);
                continue;
            }
            if (vocabulary.ByteFallback && TryAppendBytes(character, bytes, byteIds))
            {
                symbols.AddRange(byteIds);
                continue;
            }
            if (unknown is int unknownId && (symbols.Count == 0 || symbols[^1] != unknownId))
            {
                symbols.Add(unknownId);
            }
        }
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(symbols);
        int kept = BytePairMerger.Merge(span, tables.Merges);
        output.AddRange(span[..kept]);
    }

    // Hugging Face's byte fallback replaces a code point with its byte tokens only when all of them exist.
    private bool TryAppendBytes(ReadOnlySpan<char> character, Span<byte> bytes, List<int> byteIds)
    {
        byteIds.Clear();
        int length = Encoding.UTF8.GetBytes(character, bytes);
        foreach (byte value in bytes[..length])
        {
            if (!tables.ByteTokens.TryGetId(value, out int id))
            {
                return false;
            }
            byteIds.Add(id);
        }
        return true;
    }
}
