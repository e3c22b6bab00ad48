using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dclm.Server.Chat.Jinja;

/// <summary>The filters, tests and string/dict methods chat templates use.</summary>
internal static class JinjaFunctions
{
    public static object? Filter(string name, object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        switch (name)
        {
            case "trim": return Text(value, name).Trim(true, true, arguments.Count > 0 ? Text(arguments[0], name).Value : null);
            case "upper": return Text(value, name).Map(s => s.ToUpperInvariant());
            case "lower": return Text(value, name).Map(s => s.ToLowerInvariant());
            case "capitalize":
                var t = Text(value, name).Value;
                return Text(value, name).Derived(t.Length == 0 ? t : char.ToUpperInvariant(t[0]) + t[1..].ToLowerInvariant());
            case "title": return Text(value, name).Derived(Title(Text(value, name).Value));
            case "length" or "count":
                return value switch
                {
                    JinjaText s => (long)s.Value.Length,
                    List<object?> l => (long)l.Count,
                    Dictionary<string, object?> d => (long)d.Count,
                    Undefined => 0L,
                    _ => throw new JinjaException($"{TypeName(value)} has no length"),
                };
            case "first": return JinjaRenderer.Iterate(value).FirstOrDefault(Undefined.Instance);
            case "last": return value is List<object?> { Count: > 0 } list ? list[^1] : JinjaRenderer.Iterate(value).LastOrDefault(Undefined.Instance);
            case "reverse": return value is JinjaText rt ? rt.Derived(new string(rt.Value.Reverse().ToArray())) : JinjaRenderer.Iterate(value).Reverse().ToList();
            case "join":
                var separator = arguments.Count > 0 ? JinjaRenderer.ToText(arguments[0]) : JinjaText.Empty;
                var joined = JinjaText.Empty;
                bool firstItem = true;
                foreach (var item in JinjaRenderer.Iterate(value))
                {
                    if (!firstItem) joined = JinjaText.Concat(joined, separator);
                    joined = JinjaText.Concat(joined, JinjaRenderer.ToText(item));
                    firstItem = false;
                }
                return joined;
            case "default" or "d":
                bool orFalse = arguments.Count > 1 && JinjaRenderer.Truthy(arguments[1]) || named.TryGetValue("boolean", out var b) && JinjaRenderer.Truthy(b);
                return value is Undefined || orFalse && !JinjaRenderer.Truthy(value) ? arguments.FirstOrDefault(JinjaText.Empty) : value;
            case "replace": return Method(Text(value, name), "replace", arguments, named);
            case "map":
                if (named.TryGetValue("attribute", out var attribute))
                    return JinjaRenderer.Iterate(value).Select(item => Attribute(item, attribute)).ToList();
                string mapped = arguments.Count > 0 ? Text(arguments[0], name).Value : throw new JinjaException("map needs a filter name or attribute=");
                return JinjaRenderer.Iterate(value).Select(item => Filter(mapped, item, arguments.Skip(1).ToList(), [])).ToList();
            case "select" or "reject":
                return JinjaRenderer.Iterate(value).Where(item => Selects(item, arguments, 0) == (name == "select")).ToList();
            case "selectattr" or "rejectattr":
                if (arguments.Count == 0) throw new JinjaException($"{name} needs an attribute name");
                return JinjaRenderer.Iterate(value).Where(item => Selects(Attribute(item, arguments[0]), arguments, 1) == (name == "selectattr")).ToList();
            case "string": return JinjaRenderer.ToText(value);
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)d,
                    JinjaText s when long.TryParse(s.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
                    _ => 0L,
                };
            case "list":
                var items = JinjaRenderer.Iterate(value).Take(JinjaRenderer.MaxIterations + 1).ToList();
                return items.Count <= JinjaRenderer.MaxIterations ? items : throw new JinjaException($"a list of more than {JinjaRenderer.MaxIterations} items");
            case "items": return Items(value);
            case "tojson":
                var json = Json(value, named.TryGetValue("indent", out var indent) && indent is long n ? (int)n : null);
                return value is JinjaText { HasContent: false } || value is long or double or bool or null ? JinjaText.Markup(json) : JinjaText.Content(json);
        }
        throw new JinjaException($"unsupported filter '{name}'");
    }

    public static bool Test(string name, object? value, List<object?> arguments) => name switch
    {
        "defined" => value is not Undefined,
        "undefined" => value is Undefined,
        "none" => value is null,
        "string" => value is JinjaText,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is Dictionary<string, object?>,
        "sequence" or "iterable" => value is List<object?> or JinjaText or Dictionary<string, object?>,
        "even" => value is long e && e % 2 == 0,
        "odd" => value is long o && o % 2 != 0,
        "eq" or "equalto" or "==" => arguments.Count > 0 && Equal(value, arguments[0]),
        "ne" or "!=" => arguments.Count > 0 && !Equal(value, arguments[0]),
        _ => throw new JinjaException($"unsupported test '{name}'"),
    };

    public static object? Method(object? target, string name, List<object?> arguments, Dictionary<string, object?> named)
    {
        if (target is JinjaText text)
        {
            string? Argument(int i) => arguments.Count > i && arguments[i] is not null ? Text(arguments[i], name).Value : null;
            switch (name)
            {
                case "strip": return text.Trim(true, true, Argument(0));
                case "lstrip": return text.Trim(true, false, Argument(0));
                case "rstrip": return text.Trim(false, true, Argument(0));
                case "upper": return text.Map(s => s.ToUpperInvariant());
                case "lower": return text.Map(s => s.ToLowerInvariant());
                case "title": return text.Derived(Title(text.Value));
                case "capitalize": return Filter("capitalize", text, [], named);
                case "startswith": return arguments.Any(a => text.Value.StartsWith(Text(a, name).Value, StringComparison.Ordinal));
                case "endswith": return arguments.Any(a => text.Value.EndsWith(Text(a, name).Value, StringComparison.Ordinal));
                case "replace":
                    string from = Argument(0) ?? throw new JinjaException("replace needs two strings"), to = Argument(1) ?? "";
                    return from.Length == 0 ? text : text.Map(s => s.Replace(from, to, StringComparison.Ordinal));
                case "split":
                    string? separator = Argument(0);
                    var parts = separator is null ? text.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) : text.Value.Split(separator);
                    return parts.Select(p => (object?)text.Derived(p)).ToList();
                case "find": return (long)text.Value.IndexOf(Argument(0) ?? "", StringComparison.Ordinal);
                case "count": return (long)CountOf(text.Value, Argument(0) ?? "");
            }
        }
        if (target is Dictionary<string, object?> dict)
        {
            switch (name)
            {
                case "items": return Items(dict);
                case "keys": return dict.Keys.Select(k => (object?)JinjaText.Markup(k)).ToList();
                case "values": return dict.Values.ToList();
                case "get":
                    string key = arguments.Count > 0 ? Text(arguments[0], name).Value : throw new JinjaException("get needs a key");
                    return dict.TryGetValue(key, out var value) ? value : arguments.Count > 1 ? arguments[1] : null;
            }
        }
        throw new JinjaException($"{TypeName(target)} has no method '{name}'");
    }

    /// <summary>Python's strftime for the directives chat templates use (%d %b %Y and the like, glibc's %-d).</summary>
    public static string Strftime(DateTime time, string format)
    {
        var c = CultureInfo.InvariantCulture;
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

    private static object? Attribute(object? item, object? name) =>
        item is Dictionary<string, object?> dict && dict.TryGetValue(Text(name, "attribute").Value, out var value) ? value : Undefined.Instance;

    /// <summary>select/reject's predicate: the test named at <paramref name="at"/> (with the arguments after it), or truthiness.</summary>
    private static bool Selects(object? value, List<object?> arguments, int at) =>
        arguments.Count > at ? Test(Text(arguments[at], "select").Value, value, arguments.Skip(at + 1).ToList()) : JinjaRenderer.Truthy(value);

    private static List<object?> Items(object? value) => value is Dictionary<string, object?> dict
        ? dict.Select(p => (object?)new List<object?> { JinjaText.Markup(p.Key), p.Value }).ToList()
        : throw new JinjaException($"{TypeName(value)} has no items");

    private static int CountOf(string text, string part)
    {
        if (part.Length == 0) return text.Length + 1;
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>Python's str.title: the first letter of every run of letters upper-cased, the rest lower-cased.</summary>
    private static string Title(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool previousLetter = false;
        foreach (char c in text)
        {
            builder.Append(previousLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousLetter = char.IsLetter(c);
        }
        return builder.ToString();
    }

    private static JinjaText Text(object? value, string where) =>
        value as JinjaText ?? throw new JinjaException($"'{where}' expects a string, got {TypeName(value)}");

    public static bool Equal(object? a, object? b) => (a, b) switch
    {
        (JinjaText x, JinjaText y) => x.Value == y.Value,
        (long or double or bool, long or double or bool) => Convert.ToDouble(a, CultureInfo.InvariantCulture) == Convert.ToDouble(b, CultureInfo.InvariantCulture),
        (null, null) => true,
        (Undefined, Undefined) => true,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equal(p.First, p.Second)),
        _ => ReferenceEquals(a, b),
    };

    public static bool Contains(object? container, object? item) => container switch
    {
        JinjaText text => item is JinjaText part ? text.Value.Contains(part.Value, StringComparison.Ordinal) : throw new JinjaException("'in' a string needs a string"),
        List<object?> list => list.Any(x => Equal(x, item)),
        Dictionary<string, object?> dict => item is JinjaText key && dict.ContainsKey(key.Value),
        Undefined => false,
        _ => throw new JinjaException($"'in' does not work on {TypeName(container)}"),
    };

    public static string TypeName(object? value) => value switch
    {
        null => "none",
        Undefined => "an undefined value",
        JinjaText => "a string",
        long or double => "a number",
        bool => "a boolean",
        List<object?> => "a list",
        Dictionary<string, object?> => "a mapping",
        _ => value.GetType().Name,
    };

    public static string FormatDouble(double d) =>
        double.IsInteger(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped), as Jinja's tojson does.</summary>
    public static string Json(object? value, int? indent = null)
    {
        var builder = new StringBuilder();
        WriteJson(builder, value, indent, 0);
        return builder.ToString();
    }

    private static void WriteJson(StringBuilder builder, object? value, int? indent, int depth)
    {
        void NewLine(int level) { if (indent is int n) builder.Append('\n').Append(' ', n * level); }
        switch (value)
        {
            case null or Undefined: builder.Append("null"); break;
            case bool b: builder.Append(b ? "true" : "false"); break;
            case long l: builder.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: builder.Append(FormatDouble(d)); break;
            case JinjaText t:
                builder.Append('"');
                foreach (char c in t.Value)
                    builder.Append(c switch
                    {
                        '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t",
                        _ when c < 0x20 || c > 0x7e => $"\\u{(int)c:x4}",
                        _ => c.ToString(),
                    });
                builder.Append('"');
                break;
            case List<object?> list:
                builder.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) builder.Append(indent is null ? ", " : ",");
                    NewLine(depth + 1);
                    WriteJson(builder, list[i], indent, depth + 1);
                }
                if (list.Count > 0) NewLine(depth);
                builder.Append(']');
                break;
            case Dictionary<string, object?> dict:
                builder.Append('{');
                int k = 0;
                foreach (var (key, item) in dict)
                {
                    if (k++ > 0) builder.Append(indent is null ? ", " : ",");
                    NewLine(depth + 1);
                    WriteJson(builder, JinjaText.Markup(key), indent, depth + 1);
                    builder.Append(": ");
                    WriteJson(builder, item, indent, depth + 1);
                }
                if (dict.Count > 0) NewLine(depth);
                builder.Append('}');
                break;
            default: throw new JinjaException($"cannot write {TypeName(value)} as JSON");
        }
    }
}
