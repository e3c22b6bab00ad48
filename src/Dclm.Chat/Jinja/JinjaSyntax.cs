namespace Dclm.Chat.Jinja;

/// <summary>A template that cannot be parsed or rendered (including one that calls <c>raise_exception</c>).</summary>
public sealed class JinjaException(string message, bool raisedByTemplate = false) : Exception(message)
{
    /// <summary>Whether the template itself refused (<c>raise_exception</c>), rather than the engine or an operation failing.</summary>
    public bool RaisedByTemplate { get; } = raisedByTemplate;
}

internal abstract record Node;
internal sealed record TextNode(string Text) : Node;
internal sealed record OutputNode(Expr Value) : Node;
internal sealed record IfNode(List<(Expr Condition, List<Node> Body)> Branches, List<Node>? Else) : Node;
internal sealed record ForNode(string[] Targets, Expr Iterable, Expr? Filter, List<Node> Body, List<Node>? Else) : Node;
internal sealed record SetNode(string Name, string? Attribute, Expr? Value, List<Node>? Body) : Node;
internal sealed record BlockNode(List<Node> Body) : Node;
internal sealed record LoopControlNode(bool Break) : Node;
internal sealed record MacroNode(string Name, List<(string Name, Expr? Default)> Parameters, List<Node> Body) : Node;
/// <summary><c>{% with a = 1 %}</c>: names bound for the body only, their values evaluated outside it.</summary>
internal sealed record WithNode(List<(string Name, Expr Value)> Assignments, List<Node> Body) : Node;
/// <summary><c>{% filter upper %}</c>: the body's output passed through a filter chain applied to <see cref="FilterBlockNode.BodyName"/>.</summary>
internal sealed record FilterBlockNode(Expr Filters, List<Node> Body) : Node
{
    public const string BodyName = " filtered body";
}
/// <summary><c>{% call(x) macro(...) %}body{% endcall %}</c>: the macro runs with <c>caller(x)</c> rendering the body.</summary>
internal sealed record CallBlockNode(CallExpr Call, List<(string Name, Expr? Default)> Parameters, List<Node> Body) : Node;

internal abstract record Expr;
internal sealed record LiteralExpr(object? Value) : Expr;
internal sealed record NameExpr(string Name) : Expr;
internal sealed record AttributeExpr(Expr Target, string Name) : Expr;
internal sealed record IndexExpr(Expr Target, Expr Index) : Expr;
internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step) : Expr;
internal sealed record CallExpr(Expr Function, List<Expr> Arguments, List<(string Name, Expr Value)> Named) : Expr;
internal sealed record FilterExpr(Expr Value, string Name, List<Expr> Arguments, List<(string Name, Expr Value)> Named) : Expr;
internal sealed record TestExpr(Expr Value, string Name, List<Expr> Arguments, bool Negated) : Expr;
internal sealed record UnaryExpr(string Operator, Expr Operand) : Expr;
internal sealed record BinaryExpr(string Operator, Expr Left, Expr Right) : Expr;
internal sealed record ConditionalExpr(Expr Condition, Expr Then, Expr? Else) : Expr;
internal sealed record ListExpr(List<Expr> Items) : Expr;
internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items) : Expr;
