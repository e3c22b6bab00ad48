using System.Globalization;
using System.Text;

namespace Dclm.Data.Text;

/// <summary>
/// Python's <c>str</c> semantics, which DCLM's filters are written in: predicates per code point (<c>isspace</c>,
/// <c>isalpha</c>, <c>isalnum</c>, <c>isdigit</c>, <c>isupper</c>), <c>len</c> in code points (an emoji is 1, not
/// 2 UTF-16 units), <c>split()</c> and <c>strip()</c> on Python's whitespace (which includes U+001C–U+001F, unlike
/// .NET's).
/// </summary>
public static class PythonText
{
    /// <summary><c>str.isspace</c> of one code point: Zs, or bidirectional class WS, B or S.</summary>
    public static bool IsSpace(int codePoint) => codePoint switch
    {
        >= 0x09 and <= 0x0D or >= 0x1C and <= 0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary><c>str.isspace</c> of one UTF-16 unit (surrogates are never spaces).</summary>
    public static bool IsSpace(char c) => IsSpace((int)c);

    /// <summary><c>str.isalpha</c>: general category L*.</summary>
    public static bool IsAlpha(int codePoint) => codePoint < 0x80 ? char.IsAsciiLetter((char)codePoint) : Category(codePoint) <= UnicodeCategory.OtherLetter;

    /// <summary><c>str.isalnum</c>: a letter or anything with a numeric value (categories L* and N*).</summary>
    public static bool IsAlnum(int codePoint) => codePoint < 0x80 ? char.IsAsciiLetterOrDigit((char)codePoint)
        : Category(codePoint) is <= UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary><c>str.isdigit</c>: a Unicode digit value (decimal digits, but also ², ①, ⁹ ...).</summary>
    public static bool IsDigit(int codePoint)
    {
        var category = Category(codePoint);
        if (category == UnicodeCategory.DecimalDigitNumber) return true;
        if (category != UnicodeCategory.OtherNumber) return false;
        return codePoint <= 0xFFFF ? CharUnicodeInfo.GetDigitValue((char)codePoint) >= 0 : CharUnicodeInfo.GetDigitValue(char.ConvertFromUtf32(codePoint), 0) >= 0;
    }

    /// <summary><c>str.isupper</c> of one code point: the Uppercase property (Lu plus Roman numerals and circled or squared capitals).</summary>
    public static bool IsUpper(int codePoint) =>
        Category(codePoint) == UnicodeCategory.UppercaseLetter
        || codePoint is >= 0x2160 and <= 0x216F or >= 0x24B6 and <= 0x24CF or >= 0x1F130 and <= 0x1F149 or >= 0x1F150 and <= 0x1F169 or >= 0x1F170 and <= 0x1F189;

    private static UnicodeCategory Category(int codePoint) =>
        codePoint <= 0xFFFF ? CharUnicodeInfo.GetUnicodeCategory((char)codePoint) : CharUnicodeInfo.GetUnicodeCategory(codePoint);

    /// <summary>The code point at <paramref name="index"/> (a lone surrogate stands for itself) and its UTF-16 width.</summary>
    public static (int CodePoint, int Width) At(ReadOnlySpan<char> text, int index)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
            return (char.ConvertToUtf32(c, text[index + 1]), 2);
        return (c, 1);
    }

    /// <summary><c>len(text)</c>: code points.</summary>
    public static int Length(ReadOnlySpan<char> text)
    {
        int length = text.Length;
        if (text.IndexOfAnyInRange('\uDC00', '\uDFFF') < 0) return length;
        for (int i = 1; i < text.Length; i++)
        {
            if (char.IsLowSurrogate(text[i]) && char.IsHighSurrogate(text[i - 1])) length--;
        }
        return length;
    }

    /// <summary>Code points that are uppercase to Python (ASCII decided without a table lookup).</summary>
    public static int CountUpper(ReadOnlySpan<char> text)
    {
        int count = 0;
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c < 0x80) { if (c is >= 'A' and <= 'Z') count++; i++; continue; }
            var (codePoint, width) = At(text, i);
            if (IsUpper(codePoint)) count++;
            i += width;
        }
        return count;
    }

    /// <summary>Code points that are digits to Python (ASCII decided without a table lookup).</summary>
    public static int CountDigits(ReadOnlySpan<char> text)
    {
        int count = 0;
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c < 0x80) { if (c is >= '0' and <= '9') count++; i++; continue; }
            var (codePoint, width) = At(text, i);
            if (IsDigit(codePoint)) count++;
            i += width;
        }
        return count;
    }

    /// <summary>How many code points of <paramref name="text"/> satisfy <paramref name="predicate"/>.</summary>
    public static int Count(ReadOnlySpan<char> text, Func<int, bool> predicate)
    {
        int count = 0;
        for (int i = 0; i < text.Length;)
        {
            var (codePoint, width) = At(text, i);
            if (predicate(codePoint)) count++;
            i += width;
        }
        return count;
    }

    /// <summary>True when some code point satisfies <paramref name="predicate"/>.</summary>
    public static bool Any(ReadOnlySpan<char> text, Func<int, bool> predicate)
    {
        for (int i = 0; i < text.Length;)
        {
            var (codePoint, width) = At(text, i);
            if (predicate(codePoint)) return true;
            i += width;
        }
        return false;
    }

    /// <summary><c>str.strip()</c>.</summary>
    public static ReadOnlySpan<char> Strip(ReadOnlySpan<char> text)
    {
        int start = 0, end = text.Length;
        while (start < end && IsSpace(text[start])) start++;
        while (end > start && IsSpace(text[end - 1])) end--;
        return text[start..end];
    }

    /// <summary><c>str.strip()</c> of a string, without copying when nothing is stripped.</summary>
    public static string Strip(string text)
    {
        var stripped = Strip(text.AsSpan());
        return stripped.Length == text.Length ? text : stripped.ToString();
    }

    /// <summary><c>str.isspace()</c> of a whole string: non-empty and only whitespace.</summary>
    public static bool IsAllSpace(ReadOnlySpan<char> text) => text.Length > 0 && Strip(text).Length == 0;

    /// <summary>Number of words <c>str.split()</c> returns.</summary>
    public static int CountWords(ReadOnlySpan<char> text)
    {
        var words = new Words(text);
        int count = 0;
        while (words.MoveNext()) count++;
        return count;
    }

    /// <summary><c>str.split()</c>: the runs of non-whitespace, as an allocation-free enumerator.</summary>
    public static Words Split(ReadOnlySpan<char> text) => new(text);

    /// <summary><c>str.lower()</c> equality with an ASCII lowercase word (the only non-ASCII code point Python lowers to ASCII, U+212A KELVIN SIGN, maps to 'k').</summary>
    public static bool LowerEquals(ReadOnlySpan<char> word, string asciiLower)
    {
        if (word.Length != asciiLower.Length) return false;
        for (int i = 0; i < word.Length; i++)
        {
            char c = word[i], target = asciiLower[i];
            if (c == target || (c is >= 'A' and <= 'Z' && c + 32 == target) || (c == '\u212A' && target == 'k')) continue;
            return false;
        }
        return true;
    }

    /// <summary>Enumerates the words of <c>str.split()</c>.</summary>
    public ref struct Words(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private int _position;

        /// <summary>The current word.</summary>
        public ReadOnlySpan<char> Current { get; private set; }

        /// <summary>Enables <c>foreach</c>.</summary>
        public readonly Words GetEnumerator() => this;

        /// <summary>Advances; false when no words are left.</summary>
        public bool MoveNext()
        {
            while (_position < _text.Length && IsSpace(_text[_position])) _position++;
            if (_position >= _text.Length) return false;
            int start = _position;
            while (_position < _text.Length && !IsSpace(_text[_position])) _position++;
            Current = _text[start.._position];
            return true;
        }
    }
}
