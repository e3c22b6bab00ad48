namespace Dclm.Chat.Jinja;

/// <summary>Parses template pieces into statements, and tag sources into expressions (Jinja2's precedence).</summary>
internal sealed class JinjaParser
{
    private readonly List<TemplatePiece> _pieces;
    private int _next;

    private JinjaParser(List<TemplatePiece> pieces) => _pieces = pieces;

    public static List<Node> Parse(string template)
    {
        var parser = new JinjaParser(JinjaLexer.Split(template));
        var body = parser.ParseBody(out string? end);
        if (end is not null) throw new JinjaException($"unexpected '{{% {end} %}}'");
        return body;
    }

    private int _nesting;

    /// <summary>Statements up to an end keyword (returned in <paramref name="end"/> with its tag's rest), or to the end of the template.</summary>
    private List<Node> ParseBody(out string? end, params string[] enders)
    {
        if (++_nesting > 200) throw new JinjaException("blocks nested more than 200 deep");
        try { return ParseStatements(out end, enders); }
        finally { _nesting--; }
    }

    private List<Node> ParseStatements(out string? end, string[] enders)
    {
        var nodes = new List<Node>();
        end = null;
        while (_next < _pieces.Count)
        {
            var piece = _pieces[_next++];
            if (piece.Kind == 't') { nodes.Add(new TextNode(piece.Source)); continue; }
            if (piece.Kind == 'o') { nodes.Add(new OutputNode(JinjaExpressionParser.Parse(piece.Source))); continue; }
            var tokens = new JinjaExpressionParser(piece.Source);
            string keyword = tokens.ExpectName();
            if (enders.Contains(keyword)) { end = piece.Source; return nodes; }
            nodes.Add(keyword switch
            {
                "if" => ParseIf(tokens),
                "for" => ParseFor(tokens),
                "set" => ParseSet(tokens),
                "generation" => new BlockNode(ParseBody(out _, "endgeneration")),
                "macro" => ParseMacro(tokens),
                "with" => ParseWith(tokens),
                "filter" => ParseFilterBlock(tokens),
                "call" => ParseCallBlock(tokens),
                "break" => new LoopControlNode(true),
                "continue" => new LoopControlNode(false),
                _ => throw new JinjaException($"unsupported tag '{keyword}'"),
            });
        }
        if (enders.Length > 0) throw new JinjaException($"missing '{{% {enders[^1]} %}}'");
        return nodes;
    }

    private Node ParseIf(JinjaExpressionParser tokens)
    {
        var branches = new List<(Expr, List<Node>)>();
        var condition = tokens.ParseWhole();
        while (true)
        {
            var body = ParseBody(out string? end, "elif", "else", "endif");
            branches.Add((condition, body));
            var tag = new JinjaExpressionParser(end!);
            string keyword = tag.ExpectName();
            if (keyword == "endif") return new IfNode(branches, null);
            if (keyword == "else")
            {
                var otherwise = ParseBody(out _, "endif");
                return new IfNode(branches, otherwise);
            }
            condition = tag.ParseWhole();
        }
    }

    private Node ParseFor(JinjaExpressionParser tokens)
    {
        var targets = new List<string> { tokens.ExpectName() };
        while (tokens.TryOperator(",")) targets.Add(tokens.ExpectName());
        if (tokens.ExpectName() != "in") throw new JinjaException("expected 'in' in a for tag");
        var iterable = tokens.ParseOr();
        Expr? filter = null;
        if (tokens.TryName("if")) filter = tokens.ParseOr();
        tokens.ExpectEnd();
        var body = ParseBody(out string? end, "else", "endfor");
        List<Node>? otherwise = null;
        if (new JinjaExpressionParser(end!).ExpectName() == "else") otherwise = ParseBody(out _, "endfor");
        return new ForNode([.. targets], iterable, filter, body, otherwise);
    }

    private Node ParseMacro(JinjaExpressionParser tokens)
    {
        string name = tokens.ExpectName();
        if (!tokens.TryOperator("(")) throw new JinjaException($"macro '{name}' needs a parameter list");
        var parameters = ParseParameters(tokens, $"macro '{name}'");
        tokens.ExpectEnd();
        return new MacroNode(name, parameters, ParseBody(out _, "endmacro"));
    }

    /// <summary>Parameter names with optional defaults, after the opening parenthesis, through the closing one.</summary>
    private static List<(string, Expr?)> ParseParameters(JinjaExpressionParser tokens, string owner)
    {
        var parameters = new List<(string, Expr?)>();
        while (!tokens.TryOperator(")"))
        {
            string parameter = tokens.ExpectName();
            parameters.Add((parameter, tokens.TryOperator("=") ? tokens.ParseExpression() : null));
            if (!tokens.TryOperator(",")) { if (!tokens.TryOperator(")")) throw new JinjaException($"expected ',' or ')' in {owner}"); break; }
        }
        return parameters;
    }

    private Node ParseWith(JinjaExpressionParser tokens)
    {
        var assignments = new List<(string, Expr)>();
        while (!tokens.AtEnd)
        {
            string name = tokens.ExpectName();
            if (!tokens.TryOperator("=")) throw new JinjaException($"expected '=' after '{name}' in a with tag");
            assignments.Add((name, tokens.ParseExpression()));
            if (!tokens.TryOperator(",")) break;
        }
        tokens.ExpectEnd();
        return new WithNode(assignments, ParseBody(out _, "endwith"));
    }

    private Node ParseFilterBlock(JinjaExpressionParser tokens)
    {
        var filters = tokens.ParseFilterChain(new NameExpr(FilterBlockNode.BodyName));
        tokens.ExpectEnd();
        return new FilterBlockNode(filters, ParseBody(out _, "endfilter"));
    }

    private Node ParseCallBlock(JinjaExpressionParser tokens)
    {
        var parameters = tokens.TryOperator("(") ? ParseParameters(tokens, "a call block") : [];
        if (tokens.ParseExpression() is not CallExpr call) throw new JinjaException("a call block needs a macro call");
        tokens.ExpectEnd();
        return new CallBlockNode(call, parameters, ParseBody(out _, "endcall"));
    }

    private Node ParseSet(JinjaExpressionParser tokens)
    {
        string name = tokens.ExpectName();
        string? attribute = tokens.TryOperator(".") ? tokens.ExpectName() : null;
        if (!tokens.TryOperator("=")) return new SetNode(name, attribute, null, ParseBody(out _, "endset"));
        return new SetNode(name, attribute, tokens.ParseWhole(), null);
    }
}
