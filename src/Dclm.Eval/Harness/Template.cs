using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Dclm.Eval.Harness;

/// <summary>
/// The part of Jinja that lm-evaluation-harness's task files use in <c>doc_to_text</c>, <c>doc_to_target</c>
/// and <c>doc_to_choice</c>: literal text with <c>{{ expression }}</c> holes, where an expression reads
/// document fields (<c>question</c>, <c>choices.text</c>, <c>choices[0]</c>), calls Python string and list
/// methods (<c>strip</c>, <c>lstrip</c>, <c>rstrip</c>, <c>split</c>, <c>index</c>, <c>lower</c>, <c>upper</c>,
/// <c>replace</c>), slices (<c>[:-1]</c>), builds lists (<c>[sol1, sol2]</c>), adds with <c>+</c> and applies the
/// filters <c>join</c>, <c>trim</c>, <c>lower</c> and <c>upper</c>. Anything else is a clear parse error.
/// </summary>
public sealed class Template
{
    private readonly List<object> _parts = []; // string literals and Expression trees, in order

    private Template(string source) => Source = source;

    /// <summary>The template text as written.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>; <paramref name="where"/> names it in errors.</summary>
    public static Template Parse(string source, string where)
    {
        var template = new Template(source);
        int position = 0;
        while (position < source.Length)
        {
            int open = source.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0) { template._parts.Add(source[position..]); break; }
            if (open > position) template._parts.Add(source[position..open]);
            int close = source.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) throw new FormatException($"{where}: '{{{{' without '}}}}' in \"{source}\"");
            template._parts.Add(new ExpressionParser(source[(open + 2)..close], where).ParseAll());
            position = close + 2;
        }
        if (source.Contains("{%", StringComparison.Ordinal)) throw new FormatException($"{where}: Jinja statements ({{% ... %}}) are not supported in \"{source}\"");
        return template;
    }

    /// <summary>
    /// Evaluates against a document. A template that is one expression and nothing else gives the
    /// expression's value (a list stays a list, as the harness's literal_eval of its rendering gives);
    /// otherwise the rendered text.
    /// </summary>
    public object? Evaluate(JsonObject document)
    {
        if (_parts is [Expression only]) return only.Evaluate(document);
        var text = new StringBuilder();
        foreach (var part in _parts) text.Append(part is string literal ? literal : Render(((Expression)part).Evaluate(document)));
        return text.ToString();
    }

    /// <summary>str() of a value as Jinja prints it.</summary>
    public static string Render(object? value) => value switch
    {
        null => "None",
        string s => s,
        bool b => b ? "True" : "False",
        long n => n.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IList<object?> list => "[" + string.Join(", ", list.Select(v => v is string s ? PythonText.Repr(s) : Render(v))) + "]",
        JsonObject o => o.ToJsonString(),
        _ => value.ToString() ?? "",
    };

    /// <summary>A JSON node as a template value: strings, longs, doubles, booleans, lists and objects.</summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonArray array => array.Select(FromJson).ToList(),
        JsonObject o => o,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonValue v when v.TryGetValue(out bool b) => b,
        JsonValue v when v.TryGetValue(out long n) => n,
        JsonValue v when v.TryGetValue(out double d) => d,
        _ => node.ToJsonString(),
    };

    internal abstract record Expression
    {
        public abstract object? Evaluate(JsonObject document);
    }

    private sealed record Name(string Identifier, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document) =>
            document.TryGetPropertyValue(Identifier, out var node) ? FromJson(node) : throw new FormatException($"{Where}: the document has no field '{Identifier}' (fields: {string.Join(", ", document.Select(p => p.Key))})");
    }

    private sealed record Constant(object? Value) : Expression
    {
        public override object? Evaluate(JsonObject document) => Value;
    }

    private sealed record ListLiteral(IReadOnlyList<Expression> Items) : Expression
    {
        public override object? Evaluate(JsonObject document) => Items.Select(i => i.Evaluate(document)).ToList();
    }

    private sealed record Add(Expression Left, Expression Right, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document) => (Left.Evaluate(document), Right.Evaluate(document)) switch
        {
            (string a, string b) => a + b,
            (long a, long b) => a + b,
            (IList<object?> a, IList<object?> b) => a.Concat(b).ToList(),
            var (a, b) => throw new FormatException($"{Where}: cannot add {Render(a)} and {Render(b)}"),
        };
    }

    private sealed record Attribute(Expression Target, string Member, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document) => Target.Evaluate(document) switch
        {
            JsonObject o when o.TryGetPropertyValue(Member, out var node) => FromJson(node),
            var value => throw new FormatException($"{Where}: {Render(value)} has no field '{Member}'"),
        };
    }

    private sealed record Index(Expression Target, Expression Position, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document)
        {
            var target = Target.Evaluate(document);
            var position = Position.Evaluate(document);
            if (target is JsonObject o && position is string key)
                return o.TryGetPropertyValue(key, out var node) ? FromJson(node) : throw new FormatException($"{Where}: no field '{key}'");
            if (position is not long i) throw new FormatException($"{Where}: index {Render(position)} is not an integer");
            return target switch
            {
                IList<object?> list => list[Normalize(i, list.Count)],
                string s => s[Normalize(i, s.Length)].ToString(),
                _ => throw new FormatException($"{Where}: {Render(target)} cannot be indexed"),
            };
        }

        private int Normalize(long i, int count) =>
            (i < 0 ? i + count : i) is var j && j >= 0 && j < count ? (int)j : throw new FormatException($"{Where}: index {i} is out of range for length {count}");
    }

    private sealed record Slice(Expression Target, Expression? Start, Expression? Stop, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document)
        {
            var target = Target.Evaluate(document);
            int count = target switch { IList<object?> l => l.Count, string s => s.Length, _ => throw new FormatException($"{Where}: {Render(target)} cannot be sliced") };
            int Bound(Expression? e, int fallback)
            {
                if (e is null) return fallback;
                long v = e.Evaluate(document) as long? ?? throw new FormatException($"{Where}: slice bounds must be integers");
                if (v < 0) v += count;
                return (int)Math.Clamp(v, 0, count);
            }
            int start = Bound(Start, 0), stop = Math.Max(start, Bound(Stop, count));
            return target is string text ? text[start..stop] : ((IList<object?>)target!).Skip(start).Take(stop - start).ToList();
        }
    }

    private sealed record Call(Expression Target, string Method, IReadOnlyList<Expression> Arguments, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document)
        {
            var target = Target.Evaluate(document);
            var args = Arguments.Select(a => a.Evaluate(document)).ToArray();
            string? Text(int i) => i < args.Length ? args[i] as string ?? throw new FormatException($"{Where}: {Method}() takes text arguments") : null;
            return (target, Method) switch
            {
                (string s, "strip") => Text(0) is string c ? PythonText.Strip(s, c) : PythonText.Strip(s),
                (string s, "lstrip") => Text(0) is string c ? PythonText.Strip(s, c, right: false) : PythonText.LeftStrip(s),
                (string s, "rstrip") => Text(0) is string c ? PythonText.Strip(s, c, left: false) : PythonText.RightStrip(s),
                (string s, "lower") => s.ToLowerInvariant(),
                (string s, "upper") => s.ToUpperInvariant(),
                (string s, "capitalize") => PythonText.Capitalize(s),
                (string s, "replace") => s.Replace(Text(0)!, Text(1)!, StringComparison.Ordinal),
                (string s, "split") => (Text(0) is string separator
                    ? separator.Length > 0 ? s.Split(separator).Cast<object?>().ToList() : throw new FormatException($"{Where}: empty separator")
                    : PythonText.SplitWhitespace(s).Cast<object?>().ToList()),
                (IList<object?> list, "index") => list.IndexOf(args.Length == 1 ? args[0] : throw new FormatException($"{Where}: index() takes one argument")) is int i and >= 0
                    ? (long)i : throw new FormatException($"{Where}: {(args[0] is string text ? PythonText.Repr(text) : Render(args[0]))} is not in {Render(list)}"),
                (string s, "index") => s.IndexOf(Text(0)!, StringComparison.Ordinal) is int i and >= 0 ? (long)i : throw new FormatException($"{Where}: substring not found"),
                _ => throw new FormatException($"{Where}: {Render(target)} has no method {Method}() that task templates may use"),
            };
        }
    }

    private sealed record Filter(Expression Target, string Name, IReadOnlyList<Expression> Arguments, string Where) : Expression
    {
        public override object? Evaluate(JsonObject document)
        {
            var target = Target.Evaluate(document);
            var args = Arguments.Select(a => a.Evaluate(document)).ToArray();
            return (target, Name) switch
            {
                (IList<object?> list, "join") => string.Join(args.Length > 0 ? Render(args[0]) : "", list.Select(Render)),
                (string s, "trim") => PythonText.Strip(s),
                (string s, "lower") => s.ToLowerInvariant(),
                (string s, "upper") => s.ToUpperInvariant(),
                _ => throw new FormatException($"{Where}: filter '{Name}' is not supported on {Render(target)}"),
            };
        }
    }

    /// <summary>Recursive descent: expr := sum ('|' filter)*; sum := postfix ('+' postfix)*; postfix := primary (.name[(args)] | [index or slice])*.</summary>
    private sealed class ExpressionParser(string text, string where)
    {
        private int _position;

        public Expression ParseAll()
        {
            var expression = ParseExpression();
            SkipSpace();
            if (_position != text.Length) throw Error($"unexpected '{text[_position..]}'");
            return expression;
        }

        private FormatException Error(string message) => new($"{where}: {message} in template expression \"{text.Trim()}\"");

        private void SkipSpace() { while (_position < text.Length && char.IsWhiteSpace(text[_position])) _position++; }

        private bool Accept(char c)
        {
            SkipSpace();
            if (_position < text.Length && text[_position] == c) { _position++; return true; }
            return false;
        }

        private void Expect(char c) { if (!Accept(c)) throw Error($"expected '{c}'"); }

        private Expression ParseExpression()
        {
            var expression = ParseSum();
            while (Accept('|'))
            {
                string name = Identifier();
                var args = Accept('(') ? Arguments(')') : [];
                expression = new Filter(expression, name, args, where);
            }
            return expression;
        }

        private Expression ParseSum()
        {
            var expression = ParsePostfix();
            while (Accept('+')) expression = new Add(expression, ParsePostfix(), where);
            return expression;
        }

        private Expression ParsePostfix()
        {
            var expression = ParsePrimary();
            while (true)
            {
                if (Accept('.'))
                {
                    string member = Identifier();
                    expression = Accept('(') ? new Call(expression, member, Arguments(')'), where) : new Attribute(expression, member, where);
                }
                else if (Accept('['))
                {
                    Expression? start = Peek(':') ? null : ParseExpression();
                    if (Accept(':'))
                    {
                        Expression? stop = Peek(']') ? null : ParseExpression();
                        Expect(']');
                        expression = new Slice(expression, start, stop, where);
                    }
                    else
                    {
                        Expect(']');
                        expression = new Index(expression, start!, where);
                    }
                }
                else return expression;
            }
        }

        private bool Peek(char c)
        {
            SkipSpace();
            return _position < text.Length && text[_position] == c;
        }

        private List<Expression> Arguments(char close)
        {
            var items = new List<Expression>();
            if (Accept(close)) return items;
            do items.Add(ParseExpression()); while (Accept(','));
            Expect(close);
            return items;
        }

        private Expression ParsePrimary()
        {
            SkipSpace();
            if (_position >= text.Length) throw Error("unexpected end");
            char c = text[_position];
            if (c == '[') { _position++; return new ListLiteral(Arguments(']')); }
            if (c == '(') { _position++; var inner = ParseExpression(); Expect(')'); return inner; }
            if (c is '\'' or '"') return new Constant(StringLiteral());
            if (char.IsAsciiDigit(c) || (c == '-' && _position + 1 < text.Length && char.IsAsciiDigit(text[_position + 1])))
            {
                int start = _position++;
                while (_position < text.Length && char.IsAsciiDigit(text[_position])) _position++;
                return new Constant(long.Parse(text[start.._position], CultureInfo.InvariantCulture));
            }
            string name = Identifier();
            return name switch { "True" or "true" => new Constant(true), "False" or "false" => new Constant(false), "None" or "none" => new Constant(null), _ => new Name(name, where) };
        }

        private string Identifier()
        {
            SkipSpace();
            int start = _position;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] == '_')) _position++;
            if (_position == start) throw Error(_position < text.Length ? $"unexpected '{text[_position]}'" : "unexpected end");
            return text[start.._position];
        }

        private string StringLiteral()
        {
            char quote = text[_position++];
            var value = new StringBuilder();
            while (_position < text.Length && text[_position] != quote)
            {
                char c = text[_position++];
                if (c != '\\' || _position >= text.Length) { value.Append(c); continue; }
                char escaped = text[_position++];
                value.Append(escaped switch { 'n' => '\n', 't' => '\t', 'r' => '\r', _ => escaped });
            }
            if (_position >= text.Length) throw Error("unterminated string");
            _position++;
            return value.ToString();
        }
    }
}
