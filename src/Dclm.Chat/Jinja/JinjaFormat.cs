using System.Globalization;
using System.Text;

namespace Dclm.Chat.Jinja;

/// <summary>
/// Text the way Python writes it, which is what templates rendered by Jinja2 see: repr of values (what
/// printing a list or mapping shows), printf-style <c>%</c> formatting, transformers' <c>tojson</c>
/// (json.dumps) and <c>strftime</c>.
/// </summary>
internal static class JinjaFormat
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Python's repr of a float: the shortest text that reads back, with ".0" on whole numbers.</summary>
    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (double.IsInteger(d) && Math.Abs(d) < 1e16) return d.ToString("0.0", C);
        string text = d.ToString("R", C);
        int e = text.IndexOf('E');
        if (e < 0) return text;
        // .NET writes 1E+16 and 1.5E-07; Python 1e+16 and 1.5e-07.
        string mantissa = text[..e], exponent = text[(e + 1)..];
        char sign = exponent[0] is '-' or '+' ? exponent[0] : '+';
        string digits = exponent.TrimStart('+', '-').TrimStart('0');
        return mantissa + "e" + sign + digits.PadLeft(2, '0');
    }

    /// <summary>Python's repr: what Jinja2 prints for a list or mapping (and %r formats).</summary>
    public static string Repr(object? value)
    {
        var builder = new StringBuilder();
        WriteRepr(builder, value, 0);
        JinjaText.Charge(builder.Length);
        return builder.ToString();
    }

    private static void WriteRepr(StringBuilder builder, object? value, int depth)
    {
        if (depth > 200) throw new JinjaException("values nested more than 200 deep");
        switch (value)
        {
            case null: builder.Append("None"); break;
            case Undefined: builder.Append("Undefined"); break;
            case bool b: builder.Append(b ? "True" : "False"); break;
            case long l: builder.Append(l.ToString(C)); break;
            case double d: builder.Append(FormatDouble(d)); break;
            case JinjaText t: QuoteLikePython(builder, t.Value); break;
            case List<object?> list:
                builder.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) builder.Append(", ");
                    WriteRepr(builder, list[i], depth + 1);
                }
                builder.Append(']');
                break;
            case Dictionary<string, object?> dict:
                builder.Append('{');
                int k = 0;
                foreach (var (key, item) in dict)
                {
                    if (k++ > 0) builder.Append(", ");
                    QuoteLikePython(builder, key);
                    builder.Append(": ");
                    WriteRepr(builder, item, depth + 1);
                }
                builder.Append('}');
                break;
            default: builder.Append('<').Append(JinjaFunctions.TypeName(value)).Append('>'); break;
        }
        if (builder.Length > JinjaText.MaxLength) throw new JinjaException($"the template built a string over {JinjaText.MaxLength} characters");
    }

    /// <summary>A Python string literal as repr writes it: single quotes unless the text has one and no double quote.</summary>
    private static void QuoteLikePython(StringBuilder builder, string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        builder.Append(quote);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == quote || c == '\\') builder.Append('\\').Append(c);
            else if (c == '\n') builder.Append("\\n");
            else if (c == '\r') builder.Append("\\r");
            else if (c == '\t') builder.Append("\\t");
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) builder.Append(c).Append(text[++i]);
            else if (IsPrintable(c)) builder.Append(c);
            else if (c < 0x100) builder.Append("\\x").Append(((int)c).ToString("x2", C));
            else builder.Append("\\u").Append(((int)c).ToString("x4", C));
        }
        builder.Append(quote);
    }

    /// <summary>Python's str.isprintable for one UTF-16 unit: not a control, format, separator (but space), private or unassigned character.</summary>
    private static bool IsPrintable(char c) => c == ' ' || CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
        or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);

    /// <summary>
    /// Python's <c>format % values</c>: conversions s r d i u f F e E g G x X o c and %%, with flags (- + space 0 #),
    /// width and precision. A list on the right is the tuple of values (templates write tuples as <c>(a, b)</c>).
    /// </summary>
    public static JinjaText Printf(JinjaText format, object? values)
    {
        var arguments = values is List<object?> list ? list : [values];
        string text = format.Value;
        var result = JinjaText.Empty;
        int next = 0, literalStart = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '%') continue;
            result = JinjaText.Concat(result, format.Derived(text[literalStart..i]));
            int at = i + 1;
            string flags = "";
            while (at < text.Length && "-+ 0#".Contains(text[at])) flags += text[at++];
            int width = ReadNumber(text, ref at);
            int precision = -1;
            if (at < text.Length && text[at] == '.') { at++; precision = Math.Max(0, ReadNumber(text, ref at)); }
            if (at >= text.Length) throw new JinjaException("incomplete format");
            char conversion = text[at];
            i = at;
            literalStart = at + 1;
            if (conversion == '%') { result = JinjaText.Concat(result, JinjaText.Markup("%")); continue; }
            if (next >= arguments.Count) throw new JinjaException("not enough arguments for format string");
            var argument = arguments[next++];
            // Markup % values escapes each value it writes as text.
            if (format.IsSafe && conversion == 's' && argument is not JinjaText { IsSafe: true }) argument = JinjaRenderer.ToText(argument).Escape();
            if (conversion == 's' && argument is JinjaText piece && width <= piece.CodePointCount && precision < 0)
            {
                result = JinjaText.Concat(result, piece);
                continue;
            }
            string formatted = Convert(conversion, argument, flags, precision);
            JinjaText.Charge(Math.Max(formatted.Length, width));
            width += formatted.Length - JinjaText.CodePoints(formatted); // widths count code points
            if (formatted.Length < width)
            {
                bool zeros = flags.Contains('0') && !flags.Contains('-') && "diufFeEgGxXo".Contains(conversion);
                int sign = zeros && formatted.Length > 0 && formatted[0] is '-' or '+' or ' ' ? 1 : 0;
                if (zeros && formatted.Length > sign + 1 && formatted[sign] == '0' && formatted[sign + 1] is 'x' or 'X' or 'o') sign += 2;
                formatted = flags.Contains('-') ? formatted.PadRight(width)
                    : zeros ? formatted[..sign] + new string('0', width - formatted.Length) + formatted[sign..]
                    : formatted.PadLeft(width);
            }
            var source = argument as JinjaText;
            result = JinjaText.Concat(result, source is { HasContent: true } || argument is List<object?> or Dictionary<string, object?> ? JinjaText.Content(formatted) : JinjaText.Markup(formatted));
        }
        if (next < arguments.Count) throw new JinjaException("not all arguments converted during string formatting");
        result = JinjaText.Concat(result, format.Derived(text[literalStart..]));
        return format.IsSafe ? result.AsSafe() : result;
    }

    private static int ReadNumber(string text, ref int at)
    {
        int start = at;
        while (at < text.Length && char.IsAsciiDigit(text[at])) at++;
        if (at - start > 4) throw new JinjaException("a format width or precision over 9999");
        return at == start ? 0 : int.Parse(text[start..at], C);
    }

    private static string Convert(char conversion, object? value, string flags, int precision)
    {
        string Signed(string digits, bool negative) => (negative ? "-" : flags.Contains('+') ? "+" : flags.Contains(' ') ? " " : "") + digits;
        switch (conversion)
        {
            case 's':
                string s = JinjaRenderer.ToText(value).Value;
                return precision >= 0 && precision < s.Length ? s[..precision] : s;
            case 'r' or 'a':
                string r = Repr(value);
                return precision >= 0 && precision < r.Length ? r[..precision] : r;
            case 'c':
                return value switch
                {
                    long code when code is >= 0 and <= 0x10FFFF => char.ConvertFromUtf32((int)code),
                    JinjaText { Length: 1 } one => one.Value,
                    _ => throw new JinjaException("%c requires an int or a single character"),
                };
            case 'd' or 'i' or 'u' or 'x' or 'X' or 'o':
                long whole = value switch
                {
                    long l => l,
                    bool b => b ? 1 : 0,
                    double d when conversion is 'd' or 'i' or 'u' && double.IsFinite(d) && Math.Abs(d) < 9e18 => (long)Math.Truncate(d),
                    _ => throw new JinjaException($"%{conversion} format: a number is required, not {JinjaFunctions.TypeName(value)}"),
                };
                ulong magnitude = whole < 0 ? (ulong)(-(whole + 1)) + 1 : (ulong)whole;
                string digits = conversion switch
                {
                    'x' => magnitude.ToString("x", C), 'X' => magnitude.ToString("X", C),
                    'o' => System.Convert.ToString((long)magnitude, 8),
                    _ => magnitude.ToString(C),
                };
                if (precision > digits.Length) digits = digits.PadLeft(precision, '0');
                if (flags.Contains('#')) digits = (conversion switch { 'x' => "0x", 'X' => "0X", 'o' => "0o", _ => "" }) + digits;
                return Signed(digits, whole < 0);
            case 'f' or 'F' or 'e' or 'E' or 'g' or 'G':
                double number = JinjaFunctions.ToNumber(value, $"%{conversion} format");
                if (double.IsNaN(number) || double.IsInfinity(number))
                {
                    string special = double.IsNaN(number) ? "nan" : "inf";
                    return Signed(char.IsUpper(conversion) ? special.ToUpperInvariant() : special, number < 0);
                }
                int p = precision < 0 ? 6 : precision;
                string body = conversion switch
                {
                    'f' or 'F' => Math.Abs(number).ToString("F" + p, C),
                    'e' or 'E' => Exponential(Math.Abs(number), p, conversion == 'E'),
                    _ => General(Math.Abs(number), p == 0 ? 1 : p, conversion == 'G', flags.Contains('#')),
                };
                if (flags.Contains('#') && p == 0 && conversion is 'f' or 'F') body += ".";
                return Signed(body, number < 0 || (number == 0 && double.IsNegative(number)));
        }
        throw new JinjaException($"unsupported format character '{conversion}'");
    }

    private static string Exponential(double value, int precision, bool upper)
    {
        string text = value.ToString((precision > 0 ? "0." + new string('0', precision) : "0") + "e+00", C);
        return upper ? text.ToUpperInvariant() : text;
    }

    /// <summary>%g: exponential when the exponent is below -4 or at least the precision, trailing zeros dropped unless '#'.</summary>
    private static string General(double value, int precision, bool upper, bool keepZeros)
    {
        if (value == 0) return keepZeros ? "0." + new string('0', precision - 1) : "0";
        string exponential = Exponential(value, precision - 1, upper);
        int exponent = int.Parse(exponential[(exponential.IndexOfAny(['e', 'E']) + 1)..], C);
        string text = exponent < -4 || exponent >= precision ? exponential : value.ToString("F" + Math.Max(0, precision - 1 - exponent), C);
        if (keepZeros) return text;
        int e = text.IndexOfAny(['e', 'E']);
        string mantissa = e < 0 ? text : text[..e], tail = e < 0 ? "" : text[e..];
        if (mantissa.Contains('.')) mantissa = mantissa.TrimEnd('0').TrimEnd('.');
        return mantissa + tail;
    }

    /// <summary>
    /// JSON as transformers' <c>tojson</c> writes it (json.dumps with ensure_ascii=False and no key sorting unless
    /// asked): ", " and ": " separators, "," between items when indented.
    /// </summary>
    public static string Json(object? value, int? indent = null, bool ensureAscii = false, bool sortKeys = false, string? itemSeparator = null, string? keySeparator = null)
    {
        var builder = new StringBuilder();
        var style = new JsonStyle(indent, ensureAscii, sortKeys, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ");
        WriteJson(builder, value, style, 0);
        JinjaText.Charge(builder.Length);
        return builder.ToString();
    }

    private sealed record JsonStyle(int? Indent, bool EnsureAscii, bool SortKeys, string ItemSeparator, string KeySeparator);

    private static void WriteJson(StringBuilder builder, object? value, JsonStyle style, int depth)
    {
        if (depth > 200) throw new JinjaException("values nested more than 200 deep");
        if (builder.Length > JinjaText.MaxLength) throw new JinjaException($"the template built a string over {JinjaText.MaxLength} characters");
        void NewLine(int level) { if (style.Indent is int n) builder.Append('\n').Append(' ', n * level); }
        switch (value)
        {
            case null: builder.Append("null"); break;
            // json.dumps refuses what JSON has no form for, as it does with Jinja2's Undefined and generators.
            case Undefined or JinjaGenerator or JinjaMethod: throw new JinjaException($"Object of type {JinjaFunctions.TypeName(value)} is not JSON serializable");
            case bool b: builder.Append(b ? "true" : "false"); break;
            case long l: builder.Append(l.ToString(C)); break;
            case double d: builder.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : FormatDouble(d)); break;
            case JinjaText t: WriteJsonString(builder, t.Value, style.EnsureAscii); break;
            case List<object?> list:
                builder.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) builder.Append(style.ItemSeparator);
                    NewLine(depth + 1);
                    WriteJson(builder, list[i], style, depth + 1);
                }
                if (list.Count > 0) NewLine(depth);
                builder.Append(']');
                break;
            case Dictionary<string, object?> dict:
                builder.Append('{');
                int k = 0;
                var pairs = style.SortKeys ? dict.OrderBy(p => p.Key, StringComparer.Ordinal) : (IEnumerable<KeyValuePair<string, object?>>)dict;
                foreach (var (key, item) in pairs)
                {
                    if (k++ > 0) builder.Append(style.ItemSeparator);
                    NewLine(depth + 1);
                    WriteJsonString(builder, key, style.EnsureAscii);
                    builder.Append(style.KeySeparator);
                    WriteJson(builder, item, style, depth + 1);
                }
                if (dict.Count > 0) NewLine(depth);
                builder.Append('}');
                break;
            default: throw new JinjaException($"cannot write {JinjaFunctions.TypeName(value)} as JSON");
        }
    }

    private static void WriteJsonString(StringBuilder builder, string text, bool ensureAscii)
    {
        builder.Append('"');
        foreach (char c in text)
            builder.Append(c switch
            {
                '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '\b' => "\\b", '\f' => "\\f",
                _ when c < 0x20 || ensureAscii && c > 0x7e => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        builder.Append('"');
    }

    /// <summary>Python's strftime for the directives chat templates use (%d %b %Y and the like, glibc's %-d).</summary>
    public static string Strftime(DateTime time, string format)
    {
        var c = C;
        var builder = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length) { builder.Append(format[i]); continue; }
            bool unpadded = format[i + 1] == '-' && i + 2 < format.Length;
            char directive = format[unpadded ? i + 2 : i + 1];
            i += unpadded ? 2 : 1;
            string Number(int value, int width) => unpadded ? value.ToString(c) : value.ToString(new string('0', width), c);
            builder.Append(directive switch
            {
                'd' => Number(time.Day, 2), 'm' => Number(time.Month, 2), 'Y' => time.Year.ToString(c), 'y' => Number(time.Year % 100, 2),
                'H' => Number(time.Hour, 2), 'I' => Number(time.Hour % 12 == 0 ? 12 : time.Hour % 12, 2), 'M' => Number(time.Minute, 2),
                'S' => Number(time.Second, 2), 'j' => Number(time.DayOfYear, 3), 'p' => time.Hour < 12 ? "AM" : "PM",
                'b' => time.ToString("MMM", c), 'B' => time.ToString("MMMM", c), 'a' => time.ToString("ddd", c), 'A' => time.ToString("dddd", c),
                '%' => "%",
                _ => throw new JinjaException($"unsupported strftime directive %{directive}"),
            });
        }
        return builder.ToString();
    }

}
