using System.Globalization;
using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// The WordPiece tokenizer of BERT-family encoders, as Hugging Face's BertTokenizer runs it: the basic
/// tokenizer (drop control characters, whitespace to spaces, spaces around CJK ideographs, lower case and
/// accents stripped when <see cref="Lowercase"/>, a split at every punctuation character) and then greedy
/// longest-match-first WordPiece over each word, continuation pieces prefixed "##", a word with no
/// complete cover (or longer than 100 characters) becoming [UNK]. Every token keeps the span of the
/// input it came from, so callers can cut text by tokens. Instances are immutable and thread-safe.
/// </summary>
public sealed class WordPieceTokenizer
{
    private const int MaxCharactersPerWord = 100;
    private const string ContinuationPrefix = "##";
    private readonly Dictionary<string, int> ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;

    /// <summary>Builds a tokenizer over <paramref name="tokens"/> (id = position), which must hold [CLS], [SEP] and [UNK].</summary>
    public WordPieceTokenizer(IReadOnlyList<string> tokens, bool lowercase = true)
    {
        Tokens = tokens;
        Lowercase = lowercase;
        ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids.TryAdd(tokens[i], i);
        lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        ClassifyId = Require("[CLS]");
        SeparatorId = Require("[SEP]");
        UnknownId = Require("[UNK]");
        PaddingId = ids.GetValueOrDefault("[PAD]", 0);
    }

    /// <summary>Reads a vocab.txt (one token a line, ids in line order).</summary>
    public static WordPieceTokenizer FromVocabulary(Stream vocabulary, bool lowercase = true)
    {
        using var reader = new StreamReader(vocabulary, Encoding.UTF8);
        var tokens = new List<string>();
        while (reader.ReadLine() is { } line) tokens.Add(line.TrimEnd('\r'));
        // vocab.txt ends in a newline, not in an empty token.
        while (tokens.Count > 0 && tokens[^1].Length == 0) tokens.RemoveAt(tokens.Count - 1);
        return new WordPieceTokenizer(tokens, lowercase);
    }

    /// <summary>The vocabulary, indexed by id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Whether text is lower-cased and stripped of accents first (uncased models).</summary>
    public bool Lowercase { get; }

    /// <summary>Id of [CLS], which starts every model input.</summary>
    public int ClassifyId { get; }

    /// <summary>Id of [SEP], which ends every model input.</summary>
    public int SeparatorId { get; }

    /// <summary>Id of [UNK].</summary>
    public int UnknownId { get; }

    /// <summary>Id of [PAD] (0 when the vocabulary has none).</summary>
    public int PaddingId { get; }

    /// <summary>
    /// Appends the ids of <paramref name="text"/> (no [CLS] or [SEP]) to <paramref name="output"/> and, when
    /// <paramref name="spans"/> is given, each token's [start, end) span of <paramref name="text"/>.
    /// </summary>
    public void Encode(string text, List<int> output, List<(int Start, int End)>? spans = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var word = new StringBuilder();
        var origins = new List<int>(); // for each char of word, the index in text of the character it came from
        var decomposed = new List<int>(4);
        for (int index = 0; index < text.Length;)
        {
            var rune = Rune.GetRuneAt(text, index);
            int start = index, width = rune.Utf16SequenceLength;
            index += width;
            int value = rune.Value;
            if (value == 0 || value == 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) { Flush(word, origins, text, output, spans); continue; }
            if (IsPunctuation(rune) || IsCjkIdeograph(value))
            {
                Flush(word, origins, text, output, spans);
                AppendNormalized(rune, start, word, origins, decomposed);
                Flush(word, origins, text, output, spans);
                continue;
            }
            AppendNormalized(rune, start, word, origins, decomposed);
        }
        Flush(word, origins, text, output, spans);
    }

    /// <summary>The model input for <paramref name="text"/>: [CLS], at most <paramref name="maxTokens"/> − 2 pieces, [SEP].</summary>
    public int[] EncodeForModel(string text, int maxTokens)
    {
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), "a model input needs room for [CLS] and [SEP]");
        var pieces = new List<int>();
        Encode(text, pieces);
        int kept = Math.Min(pieces.Count, maxTokens - 2);
        var result = new int[kept + 2];
        result[0] = ClassifyId;
        pieces.CopyTo(0, result, 1, kept);
        result[^1] = SeparatorId;
        return result;
    }

    private void AppendNormalized(Rune rune, int origin, StringBuilder word, List<int> origins, List<int> decomposed)
    {
        if (!Lowercase)
        {
            word.Append(rune.ToString());
            for (int i = 0; i < rune.Utf16SequenceLength; i++) origins.Add(origin);
            return;
        }
        decomposed.Clear();
        // U+0130 İ is the one letter whose full lower case (SpecialCasing.txt) is two code points, i and a
        // combining dot that accent stripping then drops; .NET leaves it unchanged.
        if (rune.Value == 0x130) decomposed.Add('i');
        else UnicodeNormalization.Decompose(Rune.ToLowerInvariant(rune).Value, decomposed);
        foreach (int codePoint in decomposed)
        {
            var part = new Rune(codePoint);
            if (Rune.GetUnicodeCategory(part) == UnicodeCategory.NonSpacingMark) continue;
            word.Append(part.ToString());
            for (int i = 0; i < part.Utf16SequenceLength; i++) origins.Add(origin);
        }
    }

    // One whitespace- and punctuation-free word through WordPiece.
    private void Flush(StringBuilder word, List<int> origins, string text, List<int> output, List<(int, int)>? spans)
    {
        if (word.Length == 0) return;
        string piece = word.ToString();
        int wordStart = origins[0], wordEnd = End(origins[^1], text);
        int firstToken = output.Count;
        bool unknown = CountRunes(piece) > MaxCharactersPerWord;
        var buffer = new char[piece.Length + ContinuationPrefix.Length];
        for (int start = 0; !unknown && start < piece.Length;)
        {
            int end = piece.Length, found = -1;
            for (; end > start; end--)
            {
                if (char.IsLowSurrogate(piece[end - 1]) && end - 1 > start) continue; // never split a surrogate pair
                ReadOnlySpan<char> key;
                if (start == 0) key = piece.AsSpan(0, end);
                else
                {
                    ContinuationPrefix.CopyTo(buffer);
                    piece.AsSpan(start, end - start).CopyTo(buffer.AsSpan(ContinuationPrefix.Length));
                    key = buffer.AsSpan(0, ContinuationPrefix.Length + end - start);
                }
                if (lookup.TryGetValue(key, out found)) break;
            }
            if (end == start) { unknown = true; break; }
            output.Add(found);
            spans?.Add((origins[start], End(origins[end - 1], text)));
            start = end;
        }
        if (unknown)
        {
            output.RemoveRange(firstToken, output.Count - firstToken);
            spans?.RemoveRange(firstToken, spans.Count - firstToken);
            output.Add(UnknownId);
            spans?.Add((wordStart, wordEnd));
        }
        word.Clear();
        origins.Clear();
    }

    private static int End(int origin, string text) => origin + (char.IsHighSurrogate(text[origin]) && origin + 1 < text.Length ? 2 : 1);

    private static int CountRunes(string text)
    {
        int count = 0;
        foreach (var _ in text.EnumerateRunes()) count++;
        return count;
    }

    private int Require(string token) =>
        ids.TryGetValue(token, out int id) ? id : throw new ArgumentException($"the WordPiece vocabulary has no {token} token");

    // Unicode's White_Space property, as Rust's char::is_whitespace (Hugging Face's tokenizers) reads it;
    // U+0085 and the other control characters among them were already dropped as controls.
    private static bool IsWhitespace(Rune rune) =>
        rune.Value is ' ' or '\t' or '\n' or '\r' or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 or 0xA0 or >= 0x2000 and <= 0x200A;

    private static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r')
        && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    // BERT counts every non-alphanumeric ASCII symbol as punctuation ($, +, ^, `...), plus Unicode's P* classes.
    private static bool IsPunctuation(Rune rune)
    {
        int c = rune.Value;
        if (c is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    // The CJK Unified Ideographs blocks BERT surrounds with spaces (not Hiragana, Katakana or Hangul).
    private static bool IsCjkIdeograph(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
