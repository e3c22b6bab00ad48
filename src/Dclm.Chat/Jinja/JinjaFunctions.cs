using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dclm.Chat.Jinja;

/// <summary>The tests and string/dict methods chat templates use, and the comparisons filters and the renderer share.</summary>
internal static class JinjaFunctions
{
    public static bool Test(string name, object? value, List<object?> arguments) => name switch
    {
        "defined" => value is not Undefined,
        "undefined" => value is Undefined,
        "none" => value is null,
        "string" => value is JinjaText,
        "number" => value is long or double or bool, // Python's bool is a number
        "callable" => value is MacroNode or JinjaMethod,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is Dictionary<string, object?> and not Namespace,
        // Jinja2's: what len() and [] take, and what iter() takes (an undefined value is an empty sequence).
        "sequence" => value is List<object?> or JinjaText or Dictionary<string, object?> or Undefined,
        "iterable" => value is List<object?> or JinjaText or Dictionary<string, object?> or Undefined or JinjaGenerator,
        "even" => value is long e && e % 2 == 0,
        "odd" => value is long o && o % 2 != 0,
        "eq" or "equalto" or "==" => Equal(value, Operand(name, arguments)),
        "ne" or "!=" => !Equal(value, Operand(name, arguments)),
        "gt" or "greaterthan" or ">" => Compare(">", value, Operand(name, arguments)),
        "ge" or ">=" => Compare(">=", value, Operand(name, arguments)),
        "lt" or "lessthan" or "<" => Compare("<", value, Operand(name, arguments)),
        "le" or "<=" => Compare("<=", value, Operand(name, arguments)),
        "in" => Contains(Operand(name, arguments), value),
        "divisibleby" => Operand(name, arguments) is long d and not 0 ? value is long v && v % d == 0
            : throw new JinjaException("divisibleby needs a non-zero whole number"),
        // Python's identity: the same None/True/False, the same number or string object; lists and mappings the same instance.
        "sameas" => (value, Operand(name, arguments)) switch
        {
            (null, null) => true,
            (bool x, bool y) => x == y,
            (long x, long y) => x == y,
            var (x, y) => ReferenceEquals(x, y),
        },
        "lower" => value is JinjaText lower && lower.Value.Any(char.IsLetter) && lower.Value == lower.Value.ToLowerInvariant(),
        "upper" => value is JinjaText upper && upper.Value.Any(char.IsLetter) && upper.Value == upper.Value.ToUpperInvariant(),
        _ => throw new JinjaException($"unsupported test '{name}'"),
    };

    private static object? Operand(string test, List<object?> arguments) =>
        arguments.Count > 0 ? arguments[0] : throw new JinjaException($"the test '{test}' needs a value to compare with");

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
                case "capitalize": return JinjaFilters.Apply("capitalize", text, [], named);
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

    /// <summary>
    /// The attribute map, selectattr and rejectattr read: a dotted path ("function.name", "items.0") looked up part by
    /// part as items (a whole-number part as an index), as Jinja2's attribute getter does.
    /// </summary>
    internal static object? Attribute(object? item, object? name)
    {
        var path = name as JinjaText is { } text ? text.Value.Split('.') : [ToPath(name)];
        foreach (string part in path)
            item = JinjaRenderer.GetItem(item, long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long index) ? index : JinjaText.Markup(part), attribute: false);
        return item;
    }

    private static string ToPath(object? name) => name is long l ? l.ToString(CultureInfo.InvariantCulture) : Text(name, "attribute").Value;

    /// <summary>select/reject's predicate: the test named at <paramref name="at"/> (with the arguments after it), or truthiness.</summary>
    internal static bool Selects(object? value, List<object?> arguments, int at) =>
        arguments.Count > at ? Test(Text(arguments[at], "select").Value, value, arguments.Skip(at + 1).ToList()) : JinjaRenderer.Truthy(value);

    internal static List<object?> Items(object? value) => value is Dictionary<string, object?> dict
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
    internal static string Title(string text)
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

    internal static JinjaText Text(object? value, string where) =>
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

    /// <summary>A number (or boolean, as Python counts it) as a double; anything else is an error naming <paramref name="where"/>.</summary>
    public static double ToNumber(object? value, string where) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaException($"{where} needs a number, not {TypeName(value)}"),
    };

    /// <summary>Python's ordering of two values: strings by code unit, numbers (and booleans) by value, lists item by item.</summary>
    public static int Order(object? a, object? b) => (a, b) switch
    {
        (JinjaText x, JinjaText y) => string.CompareOrdinal(x.Value, y.Value),
        (long or double or bool, long or double or bool) => Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture)),
        (List<object?> x, List<object?> y) => x.Zip(y).Select(p => Order(p.First, p.Second)).FirstOrDefault(o => o != 0, x.Count.CompareTo(y.Count)),
        _ => throw new JinjaException($"cannot order {TypeName(a)} and {TypeName(b)}"),
    };

    /// <summary>The comparison operators (&lt; &lt;= &gt; &gt;=) and their tests.</summary>
    public static bool Compare(string op, object? a, object? b)
    {
        int order = Order(a, b);
        return op switch { "<" => order < 0, "<=" => order <= 0, ">" => order > 0, _ => order >= 0 };
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        JinjaText text => item is JinjaText part ? text.Value.Contains(part.Value, StringComparison.Ordinal) : throw new JinjaException("'in' a string needs a string"),
        List<object?> list => list.Any(x => Equal(x, item)),
        Dictionary<string, object?> dict => item is JinjaText key && dict.ContainsKey(key.Value),
        JinjaGenerator generator => generator.Remaining().Any(x => Equal(x, item)),
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
        JinjaGenerator => "a generator",
        JinjaMethod method => $"the method '{method.Name}'",
        _ => value.GetType().Name,
    };
}
