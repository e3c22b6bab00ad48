using System.Text;

namespace Dclm.Eval.Harness;

/// <summary>Python's string operations where they differ from .NET's, as the harness's task code uses them.</summary>
public static class PythonText
{
    /// <summary>str.isspace for one character: .NET's white space plus the four separators U+001C..U+001F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';

    /// <summary>str.strip() with no argument.</summary>
    public static string Strip(string s) => RightStrip(LeftStrip(s));

    /// <summary>str.lstrip() with no argument.</summary>
    public static string LeftStrip(string s)
    {
        int start = 0;
        while (start < s.Length && IsSpace(s[start])) start++;
        return s[start..];
    }

    /// <summary>str.rstrip() with no argument.</summary>
    public static string RightStrip(string s)
    {
        int end = s.Length;
        while (end > 0 && IsSpace(s[end - 1])) end--;
        return s[..end];
    }

    /// <summary>str.strip(chars), lstrip(chars), rstrip(chars).</summary>
    public static string Strip(string s, string chars, bool left = true, bool right = true)
    {
        int start = 0, end = s.Length;
        if (left) while (start < end && chars.Contains(s[start])) start++;
        if (right) while (end > start && chars.Contains(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>str.split() with no argument: runs of white space separate, none at the ends.</summary>
    public static List<string> SplitWhitespace(string s)
    {
        var parts = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && IsSpace(s[i])) i++;
            int start = i;
            while (i < s.Length && !IsSpace(s[i])) i++;
            if (i > start) parts.Add(s[start..i]);
        }
        return parts;
    }

    /// <summary>str.capitalize(): the first character upper-cased, the rest lower-cased.</summary>
    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.IsHighSurrogate(s[0]) && s.Length > 1
            ? s[..2].ToUpperInvariant() + s[2..].ToLowerInvariant()
            : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>len(s): code points, not UTF-16 units (the harness's acc_norm divides by this).</summary>
    public static int Length(string s)
    {
        int count = 0;
        foreach (var _ in s.EnumerateRunes()) count++;
        return count;
    }

    /// <summary>str.isdigit() for what literal_eval can read back: non-empty ASCII digits.</summary>
    public static bool IsDigits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);

    /// <summary>repr() of a string, the way Python quotes it.</summary>
    public static string Repr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var text = new StringBuilder().Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c == quote) text.Append('\\').Append(c);
                    else if (c < ' ' || c == '\u007f') text.Append($"\\x{(int)c:x2}");
                    else text.Append(c);
                    break;
            }
        }
        return text.Append(quote).ToString();
    }
}
