using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Dclm.Chat.Jinja;

/// <summary>The filters chat templates use, as Jinja2 (and transformers' tojson) define them.</summary>
internal static partial class JinjaFilters
{
    public static object? Apply(string name, object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        switch (name)
        {
            // Jinja2's string filters take any value as str() gives it (an undefined value as "", none as "None").
            case "trim": return Soft(value).Trim(true, true, arguments.Count > 0 ? JinjaFunctions.Text(arguments[0], name).Value : null);
            case "upper": return Soft(value).Map(s => s.ToUpperInvariant());
            case "lower": return Soft(value).Map(s => s.ToLowerInvariant());
            case "capitalize":
                var t = Soft(value).Value;
                return Soft(value).Derived(t.Length == 0 ? t : char.ToUpperInvariant(t[0]) + t[1..].ToLowerInvariant());
            case "title": return Soft(value).Derived(JinjaFunctions.Title(Soft(value).Value));
            case "length" or "count":
                return value switch
                {
                    JinjaText s => (long)s.CodePointCount,
                    List<object?> l => (long)l.Count,
                    Dictionary<string, object?> d => (long)d.Count,
                    Undefined => 0L,
                    _ => throw new JinjaException($"{JinjaFunctions.TypeName(value)} has no length"),
                };
            case "first": return JinjaRenderer.Iterate(value).FirstOrDefault(Undefined.Instance);
            case "last":
                if (value is JinjaGenerator) throw new JinjaException("a generator has no last item (it cannot be reversed); add |list");
                return value is List<object?> { Count: > 0 } list ? list[^1] : JinjaRenderer.Iterate(value).LastOrDefault(Undefined.Instance);
            case "reverse":
                if (value is JinjaText rt) return rt.Derived(string.Concat(rt.Characters().AsEnumerable().Reverse()));
                // reversed() of a list is an iterator; of anything else, a list.
                return value is List<object?> reversible ? new JinjaGenerator(Enumerable.Reverse(reversible)) : JinjaRenderer.Iterate(value).Reverse().ToList();
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
                bool orFalse = Flag(arguments, named, 1, "boolean");
                return value is Undefined || orFalse && !JinjaRenderer.Truthy(value) ? arguments.FirstOrDefault(JinjaText.Empty) : value;
            case "replace":
                // Without autoescape, str(s).replace(...): plain text, even from Markup.
                var replaced = (JinjaText)JinjaFunctions.Method(Soft(value), "replace", arguments, named)!;
                return new JinjaText(replaced.Segments);
            // Jinja2 yields these lazily, and nothing at all from a false value (none, an empty list).
            case "map":
                if (!JinjaRenderer.Truthy(value)) return new JinjaGenerator([]);
                if (named.TryGetValue("attribute", out var attribute))
                {
                    bool hasDefault = named.TryGetValue("default", out var fallback);
                    return new JinjaGenerator(JinjaRenderer.Iterate(value).Select(item => JinjaFunctions.Attribute(item, attribute) is Undefined && hasDefault ? fallback : JinjaFunctions.Attribute(item, attribute)));
                }
                string mapped = arguments.Count > 0 ? JinjaFunctions.Text(arguments[0], name).Value : throw new JinjaException("map needs a filter name or attribute=");
                return new JinjaGenerator(JinjaRenderer.Iterate(value).Select(item => Apply(mapped, item, arguments.Skip(1).ToList(), [])));
            case "select" or "reject":
                if (!JinjaRenderer.Truthy(value)) return new JinjaGenerator([]);
                return new JinjaGenerator(JinjaRenderer.Iterate(value).Where(item => JinjaFunctions.Selects(item, arguments, 0) == (name == "select")));
            case "selectattr" or "rejectattr":
                if (arguments.Count == 0) throw new JinjaException($"{name} needs an attribute name");
                if (!JinjaRenderer.Truthy(value)) return new JinjaGenerator([]);
                return new JinjaGenerator(JinjaRenderer.Iterate(value).Where(item => JinjaFunctions.Selects(JinjaFunctions.Attribute(item, arguments[0]), arguments, 1) == (name == "selectattr")));
            case "string": return Soft(value);
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
            case "items": return value is Undefined ? new JinjaGenerator([]) : new JinjaGenerator(JinjaFunctions.Items(value));
            case "tojson": return ToJson(value, arguments, named);
            case "sort": return Sort(value, arguments, named);
            case "dictsort": return DictSort(value, arguments, named);
            case "unique": return new JinjaGenerator(Unique(value, arguments, named));
            case "min" or "max": return Extreme(name == "max", value, arguments, named);
            case "sum": return Sum(value, arguments, named);
            case "abs": return value switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw new JinjaException($"abs of {JinjaFunctions.TypeName(value)}") };
            case "round": return Round(value, arguments, named);
            case "float":
                return value switch
                {
                    double d => d,
                    long l => (double)l,
                    JinjaText s when double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
                    _ => Argument(arguments, named, 0, "default") ?? 0.0,
                };
            case "safe": return Soft(value).AsSafe();
            case "escape" or "e": return Soft(value).Escape();
            case "forceescape": return new JinjaText(Soft(value).Segments).Escape();
            case "wordcount": return (long)WordPattern().Matches(Soft(value).Value).Count;
            case "center":
                var centered = Soft(value);
                return centered.Derived(Center(centered.Value, Argument(arguments, named, 0, "width") is long width ? width : 80));
            case "attr":
                string attributeName = JinjaFunctions.Text(Argument(arguments, named, 0, "name"), name).Value;
                // Jinja2's attr never looks up items, so a mapping has no attributes; a namespace's are its entries.
                return value is Namespace ns && ns.TryGetValue(attributeName, out var found) ? found : Undefined.Instance;
            case "format": return JinjaFormat.Printf(JinjaFunctions.Text(value, name), arguments);
        }
        throw new JinjaException($"unsupported filter '{name}'");
    }

    /// <summary>Python's str(value) for a filter's input: a string as it is (Markup stays Markup), else its text.</summary>
    private static JinjaText Soft(object? value) => value as JinjaText ?? JinjaRenderer.ToText(value);

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordPattern();

    /// <summary>Positional argument <paramref name="index"/>, else the named one, else null.</summary>
    private static object? Argument(List<object?> arguments, Dictionary<string, object?> named, int index, string name) =>
        arguments.Count > index ? arguments[index] : named.TryGetValue(name, out var value) ? value : null;

    private static bool Flag(List<object?> arguments, Dictionary<string, object?> named, int index, string name) =>
        JinjaRenderer.Truthy(Argument(arguments, named, index, name));

    /// <summary>transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).</summary>
    private static JinjaText ToJson(object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        int? indent = Argument(arguments, named, 1, "indent") is long n ? (int)Math.Clamp(n, 0, 64) : null;
        string? itemSeparator = null, keySeparator = null;
        if (Argument(arguments, named, 2, "separators") is List<object?> { Count: 2 } separators)
            (itemSeparator, keySeparator) = (JinjaRenderer.ToText(separators[0]).Value, JinjaRenderer.ToText(separators[1]).Value);
        string json = JinjaFormat.Json(value, indent, Flag(arguments, named, 0, "ensure_ascii"), Flag(arguments, named, 3, "sort_keys"), itemSeparator, keySeparator);
        return value is JinjaText { HasContent: false } || value is long or double or bool or null ? JinjaText.Markup(json) : JinjaText.Content(json);
    }

    /// <summary>The sort key of an item: an attribute path (a.b) when given, strings lower-cased unless case-sensitive.</summary>
    private static object? SortKey(object? item, string? attribute, bool caseSensitive)
    {
        if (attribute is not null)
            foreach (string part in attribute.Split('.'))
                item = long.TryParse(part, out long index) && item is List<object?> list ? (index >= 0 && index < list.Count ? list[(int)index] : Undefined.Instance)
                    : JinjaFunctions.Attribute(item, JinjaText.Markup(part));
        return !caseSensitive && item is JinjaText text ? JinjaText.Markup(text.Value.ToLowerInvariant()) : item;
    }

    private static List<object?> Sort(object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        bool reverse = Flag(arguments, named, 0, "reverse"), caseSensitive = Flag(arguments, named, 1, "case_sensitive");
        string? attribute = Argument(arguments, named, 2, "attribute") is JinjaText a ? a.Value : null;
        var items = JinjaRenderer.Iterate(value).Select(item => (Key: SortKey(item, attribute, caseSensitive), Item: item)).ToList();
        return Ordered(items, p => p.Key, reverse).Select(p => p.Item).ToList();
    }

    private static List<object?> DictSort(object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        if (value is not Dictionary<string, object?> dict) throw new JinjaException($"dictsort of {JinjaFunctions.TypeName(value)}");
        bool caseSensitive = Flag(arguments, named, 0, "case_sensitive"), reverse = Flag(arguments, named, 2, "reverse");
        string by = Argument(arguments, named, 1, "by") is JinjaText b ? b.Value : "key";
        if (by is not ("key" or "value")) throw new JinjaException("dictsort sorts by 'key' or 'value'");
        var pairs = JinjaFunctions.Items(dict);
        return Ordered(pairs, pair => SortKey(((List<object?>)pair!)[by == "key" ? 0 : 1], null, caseSensitive), reverse);
    }

    /// <summary>A stable sort by <paramref name="key"/>, as Python's sorted (reverse keeps equal items in their order too).</summary>
    private static List<T> Ordered<T>(List<T> items, Func<T, object?> key, bool reverse)
    {
        var comparer = Comparer<object?>.Create(JinjaFunctions.Order);
        try { return (reverse ? items.OrderByDescending(key, comparer) : items.OrderBy(key, comparer)).ToList(); }
        catch (InvalidOperationException e) when (e.InnerException is JinjaException inner) { throw inner; }
    }

    private static IEnumerable<object?> Unique(object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        bool caseSensitive = Flag(arguments, named, 0, "case_sensitive");
        string? attribute = Argument(arguments, named, 1, "attribute") is JinjaText a ? a.Value : null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in JinjaRenderer.Iterate(value))
            if (seen.Add(HashKey(SortKey(item, attribute, caseSensitive)))) yield return item;
    }

    /// <summary>A set key equal for values Python's set treats as equal (1, 1.0 and True alike); lists and mappings are unhashable.</summary>
    private static string HashKey(object? value) => value switch
    {
        null => "none",
        Undefined => "undefined",
        JinjaText text => "s" + text.Value,
        long or double or bool => "n" + Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
        _ => throw new JinjaException($"unique cannot compare {JinjaFunctions.TypeName(value)}"),
    };

    private static object? Extreme(bool max, object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        bool caseSensitive = Flag(arguments, named, 0, "case_sensitive");
        string? attribute = Argument(arguments, named, 1, "attribute") is JinjaText a ? a.Value : null;
        object? best = Undefined.Instance, bestKey = null;
        bool any = false;
        foreach (var item in JinjaRenderer.Iterate(value))
        {
            var key = SortKey(item, attribute, caseSensitive);
            if (any && (max ? JinjaFunctions.Order(key, bestKey) <= 0 : JinjaFunctions.Order(key, bestKey) >= 0)) continue;
            (best, bestKey, any) = (item, key, true);
        }
        return best;
    }

    private static object Sum(object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        string? attribute = Argument(arguments, named, 0, "attribute") is JinjaText a ? a.Value : null;
        object total = Argument(arguments, named, 1, "start") ?? 0L;
        foreach (var item in JinjaRenderer.Iterate(value))
        {
            var term = attribute is null ? item : SortKey(item, attribute, caseSensitive: true);
            total = (total, term) switch
            {
                (long x, long y) => (object)(x + y),
                (long or double or bool, long or double or bool) => Convert.ToDouble(total, CultureInfo.InvariantCulture) + Convert.ToDouble(term, CultureInfo.InvariantCulture),
                _ => throw new JinjaException($"cannot add {JinjaFunctions.TypeName(term)} to a number"),
            };
        }
        return total;
    }

    /// <summary>Jinja2's round: Python's round (half to even, on the exact binary value; a whole number stays whole) or math.ceil/floor at the precision (a float).</summary>
    private static object Round(object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        double number = JinjaFunctions.ToNumber(value, "round");
        int precision = Argument(arguments, named, 0, "precision") is long p ? (int)Math.Clamp(p, -20, 20) : 0;
        string method = Argument(arguments, named, 1, "method") is JinjaText m ? m.Value : "common";
        double scale = Math.Pow(10, precision);
        if (method == "common" && value is long whole && precision >= 0) return whole;
        return method switch
        {
            "common" => RoundHalfEven(number, precision),
            "ceil" => Math.Ceiling(number * scale) / scale,
            "floor" => Math.Floor(number * scale) / scale,
            _ => throw new JinjaException("round's method is 'common', 'ceil' or 'floor'"),
        };
    }

    /// <summary>Python's round(x, n): the decimal nearest the exact binary value, ties to even.</summary>
    private static double RoundHalfEven(double value, int precision)
    {
        if (!double.IsFinite(value)) return value;
        if (precision <= 0)
        {
            double scale = Math.Pow(10, -precision);
            return Math.Round(value / scale, MidpointRounding.ToEven) * scale;
        }
        // value = mantissa · 2^exponent exactly; a tie at this precision is an exact half, which formatting would round away from zero.
        long bits = BitConverter.DoubleToInt64Bits(value);
        int rawExponent = (int)((bits >> 52) & 0x7FF);
        BigInteger mantissa = rawExponent == 0 ? bits & 0xFFFFFFFFFFFFFL : (bits & 0xFFFFFFFFFFFFFL) | (1L << 52);
        int exponent = (rawExponent == 0 ? 1 : rawExponent) - 1075;
        if (exponent >= 0) return value;
        BigInteger scaled = mantissa * BigInteger.Pow(10, precision), denominator = BigInteger.One << -exponent;
        BigInteger whole = BigInteger.DivRem(scaled, denominator, out BigInteger remainder);
        int half = (remainder * 2).CompareTo(denominator);
        if (half > 0 || half == 0 && !whole.IsEven) whole += 1;
        double rounded = double.Parse(whole.ToString(CultureInfo.InvariantCulture) + "E-" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return value < 0 ? -rounded : rounded;
    }

    /// <summary>Python's str.center: the odd space goes left when the width is odd.</summary>
    private static string Center(string text, long width)
    {
        if (width > JinjaText.MaxLength) throw new JinjaException($"center to {width} characters");
        int margin = (int)width - JinjaText.CodePoints(text);
        if (margin <= 0) return text;
        JinjaText.Charge(width);
        int left = margin / 2 + (margin & (int)width & 1);
        return new string(' ', left) + text + new string(' ', margin - left);
    }

}
