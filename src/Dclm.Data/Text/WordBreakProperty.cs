namespace Dclm.Data.Text;

/// <summary>Unicode's Word_Break property values (UAX #29, table 3).</summary>
public enum WordBreakProperty : byte
{
    /// <summary>Anything not listed below.</summary>
    Other,
    /// <summary>Carriage return.</summary>
    CR,
    /// <summary>Line feed.</summary>
    LF,
    /// <summary>Other line and paragraph breaks (VT, FF, NEL, U+2028, U+2029).</summary>
    Newline,
    /// <summary>Combining marks and other grapheme extenders.</summary>
    Extend,
    /// <summary>Zero width joiner.</summary>
    ZWJ,
    /// <summary>Regional indicator symbols (flag halves).</summary>
    RegionalIndicator,
    /// <summary>Format controls such as the soft hyphen.</summary>
    Format,
    /// <summary>Katakana.</summary>
    Katakana,
    /// <summary>Hebrew letters.</summary>
    HebrewLetter,
    /// <summary>Letters of alphabetic scripts (not ideographs, Hiragana or Thai).</summary>
    ALetter,
    /// <summary>The apostrophe.</summary>
    SingleQuote,
    /// <summary>The quotation mark.</summary>
    DoubleQuote,
    /// <summary>Full stop and the like: inside words and numbers.</summary>
    MidNumLet,
    /// <summary>Colon and the like: inside words.</summary>
    MidLetter,
    /// <summary>Comma, semicolon and the like: inside numbers.</summary>
    MidNum,
    /// <summary>Decimal digits.</summary>
    Numeric,
    /// <summary>Connector punctuation such as the underscore.</summary>
    ExtendNumLet,
    /// <summary>Spaces that are kept together.</summary>
    WSegSpace,
}

/// <summary>
/// Word_Break and Extended_Pictographic of every code point, from the embedded table that
/// scripts/make-unicode-tables.py writes from Unicode's data files (15.0).
/// </summary>
public static class WordBreakTable
{
    private const byte Pictographic = 0x80;
    private static readonly byte[] Bmp = new byte[0x10000];
    private static readonly (int Start, int End, byte Value)[] Astral;

    static WordBreakTable()
    {
        var names = Enum.GetValues<WordBreakProperty>().ToDictionary(p => p switch
        {
            WordBreakProperty.RegionalIndicator => "Regional_Indicator",
            WordBreakProperty.HebrewLetter => "Hebrew_Letter",
            WordBreakProperty.SingleQuote => "Single_Quote",
            WordBreakProperty.DoubleQuote => "Double_Quote",
            _ => p.ToString(),
        });
        var astral = new List<(int, int, byte)>();
        using var stream = typeof(WordBreakTable).Assembly.GetManifestResourceStream("Dclm.Data.WordBreakData.txt")
                           ?? throw new InvalidOperationException("the embedded WordBreakData.txt is missing");
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split(' ');
            int start = Convert.ToInt32(fields[0], 16), end = Convert.ToInt32(fields[1], 16);
            byte value = (byte)((byte)names[fields[2]] | (fields.Length > 3 ? Pictographic : 0));
            if (start <= 0xFFFF) Bmp.AsSpan(start, Math.Min(end, 0xFFFF) - start + 1).Fill(value);
            if (end > 0xFFFF) astral.Add((Math.Max(start, 0x10000), end, value));
        }
        Astral = astral.ToArray();
    }

    private static byte Lookup(int codePoint)
    {
        if (codePoint <= 0xFFFF) return Bmp[codePoint];
        int low = 0, high = Astral.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) >> 1;
            if (codePoint < Astral[middle].Start) high = middle - 1;
            else if (codePoint > Astral[middle].End) low = middle + 1;
            else return Astral[middle].Value;
        }
        return 0;
    }

    /// <summary>The Word_Break property of <paramref name="codePoint"/>.</summary>
    public static WordBreakProperty Property(int codePoint) => (WordBreakProperty)(Lookup(codePoint) & 0x7F);

    /// <summary>True for Extended_Pictographic code points (emoji and the like).</summary>
    public static bool IsExtendedPictographic(int codePoint) => (Lookup(codePoint) & Pictographic) != 0;

    /// <summary>Property (low 7 bits) and pictographic flag (bit 7) in one lookup, for the segmenter.</summary>
    internal static byte Raw(int codePoint) => Lookup(codePoint);
}
