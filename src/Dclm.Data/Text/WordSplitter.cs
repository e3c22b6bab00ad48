namespace Dclm.Data.Text;

/// <summary>
/// The three word notions DCLM's filters use: Python's <c>str.split()</c> (whitespace runs), fastText's
/// tokenizer with punctuation dropped (whitespace tokens whose first character is a letter or digit), and
/// Unicode word segmentation (UAX #29, simplified) with punctuation dropped, used for n-gram repetition.
/// </summary>
public static class WordSplitter
{
    /// <summary>Tokens separated by whitespace, as Python's <c>str.split()</c> returns them.</summary>
    public static List<string> SplitOnWhitespace(string text)
    {
        var words = new List<string>();
        int start = -1;
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                if (start >= 0) { words.Add(text[start..i]); start = -1; }
            }
            else if (start < 0) start = i;
        }
        if (start >= 0) words.Add(text[start..]);
        return words;
    }

    /// <summary>
    /// Number of whitespace tokens whose first character is a letter or digit: DCLM's <c>split_words(...,
    /// ignore_punctuation=True)</c> with the fastText tokenizer, used for page length and word-removal ratios.
    /// </summary>
    public static int CountWords(string text)
    {
        int count = 0;
        bool inToken = false;
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i])) { inToken = false; continue; }
            if (!inToken && char.IsLetterOrDigit(text[i])) count++;
            inToken = true;
        }
        return count;
    }

    /// <summary>
    /// Words by Unicode segmentation with punctuation and whitespace removed. Letters, digits and combining marks
    /// form words; an apostrophe, period or colon between two letters (or a period or comma between two digits)
    /// stays inside the word, as UAX #29's MidLetter/MidNum rules keep "don't" and "3.14" whole.
    /// </summary>
    public static List<string> SegmentWords(string text)
    {
        var words = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            if (!IsWordChar(text[i])) { i++; continue; }
            int start = i;
            while (i < text.Length)
            {
                if (IsWordChar(text[i])) { i++; continue; }
                if (i + 1 < text.Length && IsMid(text[i], text[i - 1], text[i + 1])) { i += 2; continue; }
                break;
            }
            words.Add(text[start..i]);
        }
        return words;
    }

    private static bool IsWordChar(char c) =>
        char.IsLetterOrDigit(c) || c == '_' || char.GetUnicodeCategory(c) is
            System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    private static bool IsMid(char mid, char before, char after)
    {
        if (char.IsLetter(before) && char.IsLetter(after)) return mid is '\'' or '\u2019' or '.' or ':' or '\u00B7';
        if (char.IsDigit(before) && char.IsDigit(after)) return mid is '.' or ',' or '\'' or ';';
        return false;
    }
}
