namespace Dclm.Data.Text;

/// <summary>Which edition of the UAX #29 word rules to apply.</summary>
public enum WordBreakRules
{
    /// <summary>Unicode 15.0, as Rust's <c>unicode-segmentation</c> (DCLM's BFF) applies it.</summary>
    Unicode15,
    /// <summary>
    /// The Unicode 6.2 rules of Python's <c>uniseg</c> 0.7 (DCLM's repetition filter and <c>split_words(model="uniseg")</c>):
    /// no Hebrew_Letter, Single_Quote or Double_Quote classes (the apostrophe is MidNumLet), no WB3c/WB3d (every space
    /// is its own segment; ZWJ is Extend), and WB13c joins any run of regional indicators.
    /// </summary>
    Uniseg,
}

/// <summary>
/// Unicode word boundaries (UAX #29, rules WB1–WB999), the segmentation DCLM's repetition filter gets from Python's
/// <c>uniseg.wordbreak.words</c> (<see cref="WordBreakRules.Uniseg"/>) and its BFF dedup from Rust's
/// <c>split_word_bounds</c> (<see cref="WordBreakRules.Unicode15"/>): every character of the text belongs to exactly
/// one segment (words, single punctuation marks, spaces, emoji sequences, flags). Enumerates (start, length) in UTF-16
/// units without allocating.
/// </summary>
public ref struct WordSegmenter
{
    private readonly ReadOnlySpan<char> _text;
    private readonly bool _uniseg;
    private int _position;
    private WordBreakProperty _previousRaw;
    private WordBreakProperty _previous;        // last code point not absorbed by WB4
    private WordBreakProperty _beforePrevious;  // the one before it
    private int _regionalIndicators;            // consecutive regional indicators ending at _previous
    private bool _atStart;

    /// <summary>Segments <paramref name="text"/> with the given edition of the rules.</summary>
    public WordSegmenter(ReadOnlySpan<char> text, WordBreakRules rules = WordBreakRules.Unicode15)
    {
        _text = text;
        _uniseg = rules == WordBreakRules.Uniseg;
        _atStart = true;
    }

    /// <summary>Start of the current segment.</summary>
    public int Start { get; private set; }

    /// <summary>Length of the current segment in UTF-16 units.</summary>
    public int Length { get; private set; }

    /// <summary>The current segment.</summary>
    public readonly ReadOnlySpan<char> Current => _text.Slice(Start, Length);

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly WordSegmenter GetEnumerator() => this;

    /// <summary>Advances to the next segment; false at the end of the text.</summary>
    public bool MoveNext()
    {
        if (_position >= _text.Length) return false;
        Start = _position;
        var (property, _, width) = Read(_position);
        Consume(property);
        _position += width;
        while (_position < _text.Length)
        {
            var (next, pictographic, nextWidth) = Read(_position);
            if (IsBreak(next, pictographic, _position + nextWidth)) break;
            Consume(next);
            _position += nextWidth;
        }
        Length = _position - Start;
        return true;
    }

    private readonly (WordBreakProperty Property, bool Pictographic, int Width) Read(int index)
    {
        int codePoint = _text[index], width = 1;
        if (char.IsHighSurrogate(_text[index]) && index + 1 < _text.Length && char.IsLowSurrogate(_text[index + 1]))
        {
            codePoint = char.ConvertToUtf32(_text[index], _text[index + 1]);
            width = 2;
        }
        byte raw = WordBreakTable.Raw(codePoint);
        var property = (WordBreakProperty)(raw & 0x7F);
        if (_uniseg)
        {
            // Unicode 6.2's classes: these four did not exist yet.
            property = property switch
            {
                WordBreakProperty.HebrewLetter => WordBreakProperty.ALetter,
                WordBreakProperty.SingleQuote => WordBreakProperty.MidNumLet,
                WordBreakProperty.DoubleQuote or WordBreakProperty.WSegSpace => WordBreakProperty.Other,
                WordBreakProperty.ZWJ => WordBreakProperty.Extend,
                _ => property,
            };
            return (property, false, width);
        }
        return (property, (raw & 0x80) != 0, width);
    }

    private static bool IsIgnorable(WordBreakProperty p) => p is WordBreakProperty.Extend or WordBreakProperty.Format or WordBreakProperty.ZWJ;

    private static bool IsNewline(WordBreakProperty p) => p is WordBreakProperty.Newline or WordBreakProperty.CR or WordBreakProperty.LF;

    private static bool IsLetter(WordBreakProperty p) => p is WordBreakProperty.ALetter or WordBreakProperty.HebrewLetter;

    private static bool IsMidLetter(WordBreakProperty p) => p is WordBreakProperty.MidLetter or WordBreakProperty.MidNumLet or WordBreakProperty.SingleQuote;

    private static bool IsMidNumber(WordBreakProperty p) => p is WordBreakProperty.MidNum or WordBreakProperty.MidNumLet or WordBreakProperty.SingleQuote;

    /// <summary>Records a code point that joined the current segment; WB4 hides Extend/Format/ZWJ behind what they follow.</summary>
    private void Consume(WordBreakProperty property)
    {
        bool absorbed = IsIgnorable(property) && !_atStart && !IsNewline(_previousRaw);
        if (!absorbed)
        {
            _beforePrevious = _previous;
            _previous = property;
            _regionalIndicators = property == WordBreakProperty.RegionalIndicator ? _regionalIndicators + 1 : 0;
        }
        _previousRaw = property;
        _atStart = false;
    }

    /// <summary>The property after the next code point, skipping WB4's ignorables (Other at the end).</summary>
    private readonly WordBreakProperty After(int index)
    {
        while (index < _text.Length)
        {
            var (property, _, width) = Read(index);
            if (!IsIgnorable(property)) return property;
            index += width;
        }
        return WordBreakProperty.Other;
    }

    private readonly bool IsBreak(WordBreakProperty next, bool pictographic, int afterNext)
    {
        var raw = _previousRaw;
        if (raw == WordBreakProperty.CR && next == WordBreakProperty.LF) return false;             // WB3
        if (IsNewline(raw) || IsNewline(next)) return true;                                       // WB3a, WB3b
        if (raw == WordBreakProperty.ZWJ && pictographic) return false;                           // WB3c
        if (raw == WordBreakProperty.WSegSpace && next == WordBreakProperty.WSegSpace) return false; // WB3d
        if (IsIgnorable(next)) return false;                                                      // WB4
        var previous = _previous;
        var before = _beforePrevious;
        if (IsLetter(previous) && IsLetter(next)) return false;                                   // WB5
        if (IsLetter(previous) && IsMidLetter(next) && IsLetter(After(afterNext))) return false;  // WB6
        if (IsLetter(before) && IsMidLetter(previous) && IsLetter(next)) return false;            // WB7
        if (previous == WordBreakProperty.HebrewLetter && next == WordBreakProperty.SingleQuote) return false; // WB7a
        if (previous == WordBreakProperty.HebrewLetter && next == WordBreakProperty.DoubleQuote
            && After(afterNext) == WordBreakProperty.HebrewLetter) return false;                  // WB7b
        if (before == WordBreakProperty.HebrewLetter && previous == WordBreakProperty.DoubleQuote
            && next == WordBreakProperty.HebrewLetter) return false;                              // WB7c
        if (previous == WordBreakProperty.Numeric && next == WordBreakProperty.Numeric) return false; // WB8
        if (IsLetter(previous) && next == WordBreakProperty.Numeric) return false;                // WB9
        if (previous == WordBreakProperty.Numeric && IsLetter(next)) return false;                // WB10
        if (before == WordBreakProperty.Numeric && IsMidNumber(previous) && next == WordBreakProperty.Numeric) return false; // WB11
        if (previous == WordBreakProperty.Numeric && IsMidNumber(next) && After(afterNext) == WordBreakProperty.Numeric) return false; // WB12
        if (previous == WordBreakProperty.Katakana && next == WordBreakProperty.Katakana) return false; // WB13
        if ((IsLetter(previous) || previous is WordBreakProperty.Numeric or WordBreakProperty.Katakana or WordBreakProperty.ExtendNumLet)
            && next == WordBreakProperty.ExtendNumLet) return false;                              // WB13a
        if (previous == WordBreakProperty.ExtendNumLet && (IsLetter(next) || next is WordBreakProperty.Numeric or WordBreakProperty.Katakana)) return false; // WB13b
        if (previous == WordBreakProperty.RegionalIndicator && next == WordBreakProperty.RegionalIndicator
            && (_uniseg || _regionalIndicators % 2 == 1)) return false;                           // WB15, WB16 (6.2: WB13c)
        return true;                                                                              // WB999
    }
}
