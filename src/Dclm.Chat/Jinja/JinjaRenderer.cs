using System.Globalization;
using System.Text;

namespace Dclm.Chat.Jinja;

/// <summary>The value of a name the template never set (Jinja2's default Undefined: empty when printed, false when tested).</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();
}

/// <summary><c>namespace(...)</c>: the one object a template may change from inside a loop.</summary>
internal sealed class Namespace : Dictionary<string, object?>;

/// <summary>Evaluates parsed statements against variables, collecting the output as markup and content pieces.</summary>
internal sealed partial class JinjaRenderer
{
    /// <summary>Most loop iterations (and list items) one render may make.</summary>
    public const int MaxIterations = 100_000;
    // Output pieces under construction: appending to a builder keeps a long render linear.
    private readonly List<(System.Text.StringBuilder Text, bool IsMarkup)> _output = [];
    private readonly List<Dictionary<string, object?>> _scopes = [];
    private int _iterations;
    private long _written;
    private int _calls;

    private sealed class LoopSignal(bool isBreak) : Exception
    {
        public bool IsBreak { get; } = isBreak;
    }

    public static IReadOnlyList<PromptSegment> Render(List<Node> nodes, Dictionary<string, object?> variables)
    {
        var renderer = new JinjaRenderer();
        renderer._scopes.Add(variables);
        JinjaText.ResetBudget();
        renderer.Run(nodes);
        return renderer.Output();
    }

    private void Run(List<Node> nodes)
    {
        foreach (var node in nodes) Run(node);
    }

    private void Run(Node node)
    {
        switch (node)
        {
            case TextNode text: Write(new PromptSegment(text.Text, true)); break;
            case OutputNode output: Write(ToText(Evaluate(output.Value))); break;
            case IfNode conditional:
                foreach (var (condition, body) in conditional.Branches)
                    if (Truthy(Evaluate(condition))) { Run(body); return; }
                if (conditional.Else is not null) Run(conditional.Else);
                break;
            case ForNode loop: RunFor(loop); break;
            case SetNode set: RunSet(set); break;
            case BlockNode block: Run(block.Body); break;
            case LoopControlNode control: throw new LoopSignal(control.Break);
            case MacroNode macro: _scopes[^1][macro.Name] = macro; break;
            case WithNode with:
                var bound = with.Assignments.Select(a => (a.Name, Value: Evaluate(a.Value))).ToList();
                _scopes.Add(bound.ToDictionary(a => a.Name, a => a.Value));
                try { Run(with.Body); }
                finally { _scopes.RemoveAt(_scopes.Count - 1); }
                break;
            case FilterBlockNode filter:
                var filtered = Capture(filter.Body);
                _scopes.Add(new() { [FilterBlockNode.BodyName] = filtered });
                try { Write(ToText(Evaluate(filter.Filters))); }
                finally { _scopes.RemoveAt(_scopes.Count - 1); }
                break;
            case CallBlockNode call:
                if (Evaluate(call.Call.Function) is not MacroNode callee) throw new JinjaException("a call block must call a macro");
                var caller = new Caller(call.Parameters, call.Body, [.. _scopes]);
                Write(CallMacro(callee, call.Call.Arguments.Select(Evaluate).ToList(), Named(call.Call.Named), caller));
                break;
        }
    }

    private void Write(JinjaText text)
    {
        foreach (var segment in text.Segments) Write(segment);
    }

    private void Write(PromptSegment segment)
    {
        if (segment.Text.Length == 0) return;
        _written += segment.Text.Length;
        if (_written > JinjaText.MaxLength) throw new JinjaException($"the template wrote over {JinjaText.MaxLength} characters");
        if (_output.Count > 0 && _output[^1].IsMarkup == segment.IsMarkup) _output[^1].Text.Append(segment.Text);
        else _output.Add((new System.Text.StringBuilder(segment.Text), segment.IsMarkup));
    }

    private List<PromptSegment> Output() => _output.Select(o => new PromptSegment(o.Text.ToString(), o.IsMarkup)).ToList();

    private void RunFor(ForNode loop)
    {
        var items = Iterate(Evaluate(loop.Iterable)).Take(MaxIterations + 1).ToList();
        if (items.Count > MaxIterations) throw new JinjaException($"a loop over more than {MaxIterations} items");
        var scope = new Dictionary<string, object?>();
        _scopes.Add(scope);
        try
        {
            if (loop.Filter is not null)
                items = items.Where(item => { Bind(scope, loop.Targets, item); return Truthy(Evaluate(loop.Filter)); }).ToList();
            for (int i = 0; i < items.Count; i++)
            {
                if (++_iterations > MaxIterations) throw new JinjaException($"the template ran more than {MaxIterations} loop iterations");
                Bind(scope, loop.Targets, items[i]);
                scope["loop"] = new Dictionary<string, object?>
                {
                    ["index"] = (long)i + 1, ["index0"] = (long)i, ["first"] = i == 0, ["last"] = i == items.Count - 1,
                    ["length"] = (long)items.Count, ["revindex"] = (long)(items.Count - i), ["revindex0"] = (long)(items.Count - i - 1),
                    ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance, ["nextitem"] = i + 1 < items.Count ? items[i + 1] : Undefined.Instance,
                    ["cycle"] = new LoopCycle(i),
                };
                try { Run(loop.Body); }
                catch (LoopSignal signal) { if (signal.IsBreak) break; }
            }
            if (items.Count == 0 && loop.Else is not null) Run(loop.Else);
        }
        finally { _scopes.RemoveAt(_scopes.Count - 1); }
    }

    private static void Bind(Dictionary<string, object?> scope, string[] targets, object? item)
    {
        if (targets.Length == 1) { scope[targets[0]] = item; return; }
        var parts = Iterate(item).ToList();
        if (parts.Count != targets.Length) throw new JinjaException($"cannot unpack {parts.Count} values into {targets.Length} names");
        for (int i = 0; i < targets.Length; i++) scope[targets[i]] = parts[i];
    }

    private void RunSet(SetNode set)
    {
        object? value = set.Value is not null ? Evaluate(set.Value) : Capture(set.Body!);
        if (set.Attribute is null) { _scopes[^1][set.Name] = value; return; }
        if (Lookup(set.Name) is not Namespace ns) throw new JinjaException($"'{set.Name}' is not a namespace, so '{set.Name}.{set.Attribute}' cannot be set");
        ns[set.Attribute] = value;
    }

    private object? Lookup(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
            if (_scopes[i].TryGetValue(name, out var value)) return value;
        return name switch
        {
            "range" or "namespace" or "raise_exception" => new BuiltIn(name),
            _ => Undefined.Instance,
        };
    }

    private sealed record BuiltIn(string Name);

    /// <summary><c>strftime_now</c>: Python's strftime over a fixed instant.</summary>
    public sealed record Clock(DateTime Now);

    private object? Evaluate(Expr expression)
    {
        switch (expression)
        {
            case LiteralExpr literal: return literal.Value;
            case NameExpr name: return Lookup(name.Name);
            case ListExpr list: return list.Items.Select(Evaluate).ToList();
            case DictExpr dict:
                var result = new Dictionary<string, object?>();
                foreach (var (key, value) in dict.Items) result[ToText(Evaluate(key)).Value] = Evaluate(value);
                return result;
            case AttributeExpr attribute: return GetItem(Evaluate(attribute.Target), JinjaText.Markup(attribute.Name), attribute: true);
            case IndexExpr index: return GetItem(Evaluate(index.Target), Evaluate(index.Index), attribute: false);
            case SliceExpr slice: return Slice(Evaluate(slice.Target), slice);
            case ConditionalExpr conditional:
                return Truthy(Evaluate(conditional.Condition)) ? Evaluate(conditional.Then) : conditional.Else is null ? Undefined.Instance : Evaluate(conditional.Else);
            case UnaryExpr unary:
                var operand = Evaluate(unary.Operand);
                return unary.Operator == "not" ? !Truthy(operand) : Arithmetic("-", 0L, operand);
            case BinaryExpr binary: return Binary(binary);
            case FilterExpr filter: return JinjaFilters.Apply(filter.Name, Evaluate(filter.Value), filter.Arguments.Select(Evaluate).ToList(), Named(filter.Named));
            case TestExpr test:
                bool outcome = JinjaFunctions.Test(test.Name, Evaluate(test.Value), test.Arguments.Select(Evaluate).ToList());
                return test.Negated ? !outcome : outcome;
            case CallExpr call: return Call(call);
        }
        throw new JinjaException($"cannot evaluate {expression.GetType().Name}");
    }

    private Dictionary<string, object?> Named(List<(string Name, Expr Value)> named) => named.ToDictionary(n => n.Name, n => Evaluate(n.Value));

    /// <summary>What <paramref name="body"/> writes, as a value, leaving the template's output as it was.</summary>
    private JinjaText Capture(List<Node> body)
    {
        var saved = _output.ToList();
        _output.Clear();
        try
        {
            Run(body);
            return new JinjaText(Output());
        }
        finally
        {
            _output.Clear();
            _output.AddRange(saved);
        }
    }

    private object? Binary(BinaryExpr binary)
    {
        if (binary.Operator == "and") { var left = Evaluate(binary.Left); return Truthy(left) ? Evaluate(binary.Right) : left; }
        if (binary.Operator == "or") { var left = Evaluate(binary.Left); return Truthy(left) ? left : Evaluate(binary.Right); }
        var a = Evaluate(binary.Left);
        var b = Evaluate(binary.Right);
        return binary.Operator switch
        {
            "==" => JinjaFunctions.Equal(a, b),
            "!=" => !JinjaFunctions.Equal(a, b),
            "<" or "<=" or ">" or ">=" => JinjaFunctions.Compare(binary.Operator, a, b),
            "in" => JinjaFunctions.Contains(b, a),
            "not in" => !JinjaFunctions.Contains(b, a),
            "~" => JinjaText.Concat(ToText(a), ToText(b)),
            "+" when a is JinjaText x && b is JinjaText y => JinjaText.Add(x, y),
            "+" when a is List<object?> x && b is List<object?> y => x.Concat(y).ToList(),
            "*" when a is JinjaText x && b is long n => Repeat(x, n),
            "*" when a is long n && b is JinjaText x => Repeat(x, n),
            "%" when a is JinjaText format => JinjaFormat.Printf(format, b),
            _ => Arithmetic(binary.Operator, a, b),
        };
    }

    private static JinjaText Repeat(JinjaText text, long times)
    {
        if (times > 0 && (long)text.Length * times > JinjaText.MaxLength) throw new JinjaException($"the template built a string over {JinjaText.MaxLength} characters");
        var result = JinjaText.Empty;
        for (long i = 0; i < times; i++) result = JinjaText.Concat(result, text);
        return text.IsSafe ? result.AsSafe() : result;
    }

    private static object Arithmetic(string op, object? a, object? b)
    {
        if (a is long x && b is long y)
            return op switch
            {
                "+" => (object)(x + y), "-" => x - y, "*" => x * y,
                "//" => y == 0 ? throw new JinjaException("division by zero") : (long)Math.Floor((double)x / y),
                "%" => y == 0 ? throw new JinjaException("division by zero") : ((x % y) + y) % y,
                "/" => y == 0 ? throw new JinjaException("division by zero") : (double)x / y,
                "**" when y >= 0 => Power(x, y),
                "**" => Math.Pow(x, y),
                _ => throw new JinjaException($"unsupported operator {op}"),
            };
        double p = JinjaFunctions.ToNumber(a, $"'{op}'"), q = JinjaFunctions.ToNumber(b, $"'{op}'");
        return op switch
        {
            "+" => p + q, "-" => p - q, "*" => p * q, "/" => p / q,
            "//" => Math.Floor(p / q), "%" => p - q * Math.Floor(p / q), "**" => Math.Pow(p, q),
            _ => throw new JinjaException($"unsupported operator {op}"),
        };
    }

    /// <summary>value ** exponent by squaring, refusing results beyond 64 bits (Python's integers have no limit).</summary>
    private static long Power(long value, long exponent)
    {
        long result = 1, square = value;
        try
        {
            for (long rest = exponent; rest > 0;)
            {
                if ((rest & 1) != 0) result = checked(result * square);
                rest >>= 1;
                if (rest > 0) square = checked(square * square);
            }
        }
        catch (OverflowException) { throw new JinjaException($"{value} ** {exponent} is beyond 64-bit integers"); }
        return result;
    }

    /// <summary>
    /// <c>target.name</c> or <c>target[key]</c> as Jinja2's sandbox reads them: an attribute is looked up first as a method
    /// (a mapping's <c>items</c>, a string's <c>upper</c>), then as an item; an item first as an item. What is not there
    /// is undefined, and only reading from an undefined value is an error.
    /// </summary>
    internal static object? GetItem(object? target, object? key, bool attribute)
    {
        if (target is Undefined) throw new JinjaException($"'{ToText(key).Value}' of an undefined value");
        if (attribute && target is not null && key is JinjaText method && JinjaMethod.Exists(target, method.Value)) return new JinjaMethod(target, method.Value);
        switch (target)
        {
            case Dictionary<string, object?> dict:
                if (key is JinjaText name && dict.TryGetValue(name.Value, out var value)) return value;
                return Undefined.Instance;
            case List<object?> list when key is long or bool:
                long position = key is bool b ? (b ? 1 : 0) : (long)key;
                if (position < 0) position += list.Count;
                return position >= 0 && position < list.Count ? list[(int)position] : Undefined.Instance;
            case JinjaText text when key is long index:
                var characters = text.Characters();
                if (index < 0) index += characters.Count;
                return index >= 0 && index < characters.Count ? text.Derived(characters[(int)index]) : Undefined.Instance;
        }
        return Undefined.Instance;
    }

    private object? Slice(object? target, SliceExpr slice)
    {
        long? Bound(Expr? e) => e is null ? null : Evaluate(e) is long l ? l : throw new JinjaException("slice bounds must be whole numbers");
        long? start = Bound(slice.Start), stop = Bound(slice.Stop), step = Bound(slice.Step);
        List<int> Indices(int count)
        {
            long by = step ?? 1;
            if (by == 0) throw new JinjaException("slice step is zero");
            long Clamp(long v, long low, long high) => Math.Max(low, Math.Min(high, v < 0 ? v + count : v));
            var indices = new List<int>();
            if (by > 0)
                for (long i = start is null ? 0 : Clamp(start.Value, 0, count), end = stop is null ? count : Clamp(stop.Value, 0, count); i < end; i += by) indices.Add((int)i);
            else
                for (long i = start is null ? count - 1 : Clamp(start.Value, -1, count - 1), end = stop is null ? -1 : Clamp(stop.Value, -1, count - 1); i > end; i += by) indices.Add((int)i);
            return indices;
        }
        return target switch
        {
            List<object?> list => Indices(list.Count).Select(i => list[i]).ToList(),
            JinjaText text => text.Characters() is var characters ? text.Derived(string.Concat(Indices(characters.Count).Select(i => characters[i]))) : null,
            _ => throw new JinjaException($"cannot slice {JinjaFunctions.TypeName(target)}"),
        };
    }

    public static bool Truthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        JinjaText t => t.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    public static JinjaText ToText(object? value) => value switch
    {
        JinjaGenerator => throw new JinjaException("a generator (the result of map, select, reject or unique) cannot be written as text; add |list"),
        JinjaMethod method => throw new JinjaException($"the method '{method.Name}' cannot be written as text; call it"),
        JinjaText text => text,
        Undefined => JinjaText.Empty,
        null => JinjaText.Markup("None"),
        bool b => JinjaText.Markup(b ? "True" : "False"),
        long l => JinjaText.Markup(l.ToString(CultureInfo.InvariantCulture)),
        double d => JinjaText.Markup(JinjaFormat.FormatDouble(d)),
        // Python's str of a list or mapping is its repr.
        _ => JinjaText.Content(JinjaFormat.Repr(value)),
    };

    public static IEnumerable<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        Dictionary<string, object?> dict => dict.Keys.Select(k => (object?)JinjaText.Markup(k)),
        JinjaText text => text.Characters().Select(c => (object?)text.Derived(c)),
        JinjaGenerator generator => generator.Remaining(),
        Undefined => [],
        _ => throw new JinjaException($"cannot iterate over {JinjaFunctions.TypeName(value)}"),
    };
}
