using System.Globalization;
using System.Text;

namespace Dclm.Chat.Jinja;

/// <summary>Tokens of one tag and a recursive-descent parser over them.</summary>
internal sealed class JinjaExpressionParser
{
    private readonly List<(char Kind, string Text)> _tokens = [];
    private int _at;

    public JinjaExpressionParser(string source) => Tokenize(source);

    public static Expr Parse(string source) => new JinjaExpressionParser(source).ParseWhole();

    public Expr ParseWhole()
    {
        var expression = ParseExpression();
        ExpectEnd();
        return expression;
    }

    public bool AtEnd => _at >= _tokens.Count;

    /// <summary><c>name(args)|name2...</c> of a filter block, applied to <paramref name="input"/>.</summary>
    public Expr ParseFilterChain(Expr input)
    {
        string name = ExpectName();
        var (arguments, named) = TryOperator("(") ? ParseArguments() : ([], []);
        return ParseFiltersAndTests(new FilterExpr(input, name, arguments, named));
    }

    public void ExpectEnd()
    {
        if (_at < _tokens.Count) throw new JinjaException($"unexpected '{_tokens[_at].Text}'");
    }

    public string ExpectName()
    {
        if (_at < _tokens.Count && _tokens[_at].Kind == 'n') return _tokens[_at++].Text;
        throw new JinjaException(_at < _tokens.Count ? $"expected a name, found '{_tokens[_at].Text}'" : "expected a name");
    }

    public bool TryName(string name)
    {
        if (_at < _tokens.Count && _tokens[_at].Kind == 'n' && _tokens[_at].Text == name) { _at++; return true; }
        return false;
    }

    public bool TryOperator(string op)
    {
        if (_at < _tokens.Count && _tokens[_at].Kind == 'o' && _tokens[_at].Text == op) { _at++; return true; }
        return false;
    }

    private bool PeekName(string name, int ahead = 0) => _at + ahead < _tokens.Count && _tokens[_at + ahead].Kind == 'n' && _tokens[_at + ahead].Text == name;

    private void Expect(string op)
    {
        if (!TryOperator(op)) throw new JinjaException(_at < _tokens.Count ? $"expected '{op}', found '{_tokens[_at].Text}'" : $"expected '{op}'");
    }

    private const int MaxDepth = 200;
    private int _depth;

    public Expr ParseExpression() => Nested(ParseConditional);

    /// <summary>Runs a parse that recurses, refusing nesting beyond <see cref="MaxDepth"/> rather than overflowing the stack.</summary>
    private Expr Nested(Func<Expr> parse)
    {
        if (++_depth > MaxDepth) throw new JinjaException($"expressions nested more than {MaxDepth} deep");
        try { return parse(); }
        finally { _depth--; }
    }

    /// <summary>The first of <paramref name="operators"/> that comes next (consumed), or null.</summary>
    private string? TryOperators(params string[] operators)
    {
        foreach (string op in operators)
            if (TryOperator(op)) return op;
        return null;
    }

    /// <summary>Comma-separated expressions up to <paramref name="close"/> (consumed), a trailing comma allowed.</summary>
    private List<Expr> ParseItems(string close, List<Expr>? items = null)
    {
        items ??= [];
        while (!TryOperator(close))
        {
            items.Add(ParseExpression());
            if (!TryOperator(",")) { Expect(close); break; }
        }
        return items;
    }

    private Expr ParseConditional()
    {
        var value = ParseOr();
        if (!TryName("if")) return value;
        var condition = ParseOr();
        Expr? otherwise = TryName("else") ? ParseExpression() : null;
        return new ConditionalExpr(condition, value, otherwise);
    }

    public Expr ParseOr() => LeftAssociative(ParseAnd, () => TryName("or") ? "or" : null);

    private Expr ParseAnd() => LeftAssociative(ParseNot, () => TryName("and") ? "and" : null);

    private Expr ParseNot() => TryName("not") ? Nested(() => new UnaryExpr("not", ParseNot())) : ParseCompare();

    private Expr ParseCompare() => LeftAssociative(ParseMath1, () =>
    {
        string? op = TryOperators("==", "!=", "<=", ">=", "<", ">");
        if (op is null && TryName("in")) op = "in";
        if (op is null && PeekName("not") && PeekName("in", 1)) { _at += 2; op = "not in"; }
        return op;
    });

    private Expr ParseMath1() => LeftAssociative(ParseConcat, () => TryOperators("+", "-"));

    private Expr ParseConcat() => LeftAssociative(ParseMath2, () => TryOperators("~"));

    private Expr ParseMath2() => LeftAssociative(ParsePower, () => TryOperators("//", "*", "/", "%"));

    /// <summary>As Jinja2 (not Python): left to right, over unary operands, so <c>-2**2</c> is 4.</summary>
    private Expr ParsePower() => LeftAssociative(() => ParseUnary(), () => TryOperators("**"));

    /// <summary>One precedence level: <paramref name="operand"/> (operator operand)*, grouped from the left.</summary>
    private Expr LeftAssociative(Func<Expr> operand, Func<string?> nextOperator)
    {
        var left = operand();
        while (nextOperator() is { } op) left = new BinaryExpr(op, left, operand());
        return left;
    }

    /// <summary>As Jinja2: filters and tests apply to the whole unary expression, so <c>-2|abs</c> is 2.</summary>
    private Expr ParseUnary(bool withFilters = true)
    {
        Expr value;
        if (TryOperator("-")) value = Nested(() => new UnaryExpr("-", ParseUnary(withFilters: false)));
        else if (TryOperator("+")) value = Nested(() => ParseUnary(withFilters: false));
        else value = ParsePostfix(ParsePrimary());
        return withFilters ? ParseFiltersAndTests(value) : value;
    }

    private Expr ParseFiltersAndTests(Expr value)
    {
        while (true)
        {
            if (TryOperator("|"))
            {
                string name = ExpectName();
                var (arguments, named) = _at < _tokens.Count && TryOperator("(") ? ParseArguments() : ([], []);
                value = new FilterExpr(value, name, arguments, named);
            }
            else if (TryName("is"))
            {
                bool negated = TryName("not");
                string name = ExpectName();
                var arguments = new List<Expr>();
                if (TryOperator("(")) arguments = ParseArguments().Arguments;
                // One argument without parentheses, as Jinja2 reads `is divisibleby 3`, `is in [1, 2]`, `is sameas none`.
                else if (_at < _tokens.Count && (_tokens[_at].Kind is 's' or 'd' || _tokens[_at] is ('o', "[" or "{"))
                    || _at < _tokens.Count && _tokens[_at].Kind == 'n' && _tokens[_at].Text is not ("else" or "or" or "and"))
                    arguments.Add(ParsePostfix(ParsePrimary()));
                value = new TestExpr(value, name, arguments, negated);
            }
            else return value;
        }
    }

    private Expr ParsePostfix(Expr value)
    {
        while (true)
        {
            if (TryOperator(".")) value = new AttributeExpr(value, ExpectName());
            else if (TryOperator("["))
            {
                Expr? start = null, stop = null, step = null;
                bool slice = false;
                if (!TryOperator(":")) { start = ParseExpression(); slice = TryOperator(":"); }
                else slice = true;
                if (slice)
                {
                    if (!(_at < _tokens.Count && _tokens[_at].Text is "]" or ":")) stop = ParseExpression();
                    if (TryOperator(":") && !(_at < _tokens.Count && _tokens[_at].Text == "]")) step = ParseExpression();
                    value = new SliceExpr(value, start, stop, step);
                }
                else value = new IndexExpr(value, start!);
                Expect("]");
            }
            else if (TryOperator("("))
            {
                var (arguments, named) = ParseArguments();
                value = new CallExpr(value, arguments, named);
            }
            else return value;
        }
    }

    /// <summary>Arguments after an opening parenthesis, through the closing one.</summary>
    private (List<Expr> Arguments, List<(string, Expr)> Named) ParseArguments()
    {
        var arguments = new List<Expr>();
        var named = new List<(string, Expr)>();
        while (!TryOperator(")"))
        {
            if (_at + 1 < _tokens.Count && _tokens[_at].Kind == 'n' && _tokens[_at + 1] is ('o', "="))
            {
                string name = _tokens[_at].Text;
                _at += 2;
                named.Add((name, ParseExpression()));
            }
            else arguments.Add(ParseExpression());
            if (!TryOperator(",")) { Expect(")"); break; }
        }
        return (arguments, named);
    }

    private Expr ParsePrimary()
    {
        if (_at >= _tokens.Count) throw new JinjaException("an expression ends too early");
        var (kind, text) = _tokens[_at++];
        switch (kind)
        {
            case 's':
                // Adjacent string literals concatenate, as in Python.
                var builder = new StringBuilder(text);
                while (_at < _tokens.Count && _tokens[_at].Kind == 's') builder.Append(_tokens[_at++].Text);
                return new LiteralExpr(JinjaText.Markup(builder.ToString()));
            case 'd':
                // Boxed apart: a conditional of double and long would make every number a double.
                object number = text.IndexOfAny(['.', 'e', 'E']) >= 0 ? (object)double.Parse(text, CultureInfo.InvariantCulture)
                    : long.TryParse(text, CultureInfo.InvariantCulture, out long whole) ? whole : throw new JinjaException($"the number {text} is too large");
                return new LiteralExpr(number);
            case 'n':
                return text switch
                {
                    "true" or "True" => new LiteralExpr(true),
                    "false" or "False" => new LiteralExpr(false),
                    "none" or "None" => new LiteralExpr(null),
                    _ => new NameExpr(text),
                };
        }
        if (text == "(")
        {
            var inner = ParseExpression();
            if (TryOperator(",")) return new ListExpr(ParseItems(")", [inner]));
            Expect(")");
            return inner;
        }
        if (text == "[") return new ListExpr(ParseItems("]"));
        if (text == "{")
        {
            var items = new List<(Expr, Expr)>();
            while (!TryOperator("}"))
            {
                var key = ParseExpression();
                Expect(":");
                items.Add((key, ParseExpression()));
                if (!TryOperator(",")) { Expect("}"); break; }
            }
            return new DictExpr(items);
        }
        throw new JinjaException($"unexpected '{text}'");
    }

    /// <summary>
    /// The escape after a backslash at <paramref name="at"/>, decoded as Python's unicode-escape decodes it (Jinja2 does):
    /// \n \t \r \a \b \f \v \\ \' \" \ooo \xhh \uhhhh \Uhhhhhhhh, a backslash-newline joins lines, and any other
    /// escape keeps its backslash. Returns where the literal continues.
    /// </summary>
    private static int Unescape(string source, int at, StringBuilder builder)
    {
        char e = source[at++];
        int Hex(int digits)
        {
            if (at + digits > source.Length || !int.TryParse(source.AsSpan(at, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                throw new JinjaException($"a string literal has a truncated \\{e} escape");
            at += digits;
            return code;
        }
        switch (e)
        {
            case '\n': break;
            case 'n': builder.Append('\n'); break;
            case 't': builder.Append('\t'); break;
            case 'r': builder.Append('\r'); break;
            case 'a': builder.Append('\a'); break;
            case 'b': builder.Append('\b'); break;
            case 'f': builder.Append('\f'); break;
            case 'v': builder.Append('\v'); break;
            case '\\' or '\'' or '"': builder.Append(e); break;
            case >= '0' and <= '7':
                int octal = e - '0';
                for (int k = 0; k < 2 && at < source.Length && source[at] is >= '0' and <= '7'; k++) octal = octal * 8 + source[at++] - '0';
                builder.Append((char)octal);
                break;
            case 'x': builder.Append((char)Hex(2)); break;
            case 'u': builder.Append((char)Hex(4)); break;
            case 'U':
                int code = Hex(8);
                builder.Append(code <= 0x10FFFF && code is < 0xD800 or > 0xDFFF ? char.ConvertFromUtf32(code) : throw new JinjaException($"\\U{code:x8} is not a character"));
                break;
            default: builder.Append('\\').Append(e); break;
        }
        return at;
    }

    private void Tokenize(string source)
    {
        int i = 0;
        while (i < source.Length)
        {
            char c = source[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < source.Length && (char.IsLetterOrDigit(source[i]) || source[i] == '_')) i++;
                _tokens.Add(('n', source[start..i]));
            }
            else if (char.IsDigit(c))
            {
                int start = i;
                while (i < source.Length && (char.IsDigit(source[i]) || source[i] == '.' && i + 1 < source.Length && char.IsDigit(source[i + 1]))) i++;
                // An exponent (1e-10, 2.5E3) makes a float.
                if (i + 1 < source.Length && source[i] is 'e' or 'E' && (char.IsDigit(source[i + 1]) || source[i + 1] is '+' or '-' && i + 2 < source.Length && char.IsDigit(source[i + 2])))
                {
                    i += 2;
                    while (i < source.Length && char.IsDigit(source[i])) i++;
                }
                _tokens.Add(('d', source[start..i]));
            }
            else if (c is '\'' or '"')
            {
                var builder = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= source.Length) throw new JinjaException("a string literal is never closed");
                    char s = source[i++];
                    if (s == c) break;
                    if (s != '\\' || i >= source.Length) { builder.Append(s); continue; }
                    i = Unescape(source, i, builder);
                }
                _tokens.Add(('s', builder.ToString()));
            }
            else
            {
                string two = i + 1 < source.Length ? source.Substring(i, 2) : "";
                if (two is "==" or "!=" or "<=" or ">=" or "//" or "**") { _tokens.Add(('o', two)); i += 2; }
                else if ("+-*/%~<>()[]{}.,:|=".Contains(c)) { _tokens.Add(('o', c.ToString())); i++; }
                else throw new JinjaException($"unexpected character '{c}'");
            }
        }
    }
}
