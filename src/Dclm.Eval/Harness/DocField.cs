using System.Text.Json.Nodes;

namespace Dclm.Eval.Harness;

/// <summary>
/// One of a harness task's <c>doc_to_text</c>, <c>doc_to_target</c> or <c>doc_to_choice</c>: a field name
/// (the document's value as it is), a Jinja template, a literal list, or a named function from the
/// harness's task code. Results follow the harness: a rendered text of digits becomes an index when the
/// task has choices.
/// </summary>
public abstract record DocField
{
    /// <summary>The value for <paramref name="document"/>: a string, an integer index or a list of strings.</summary>
    public abstract object? Evaluate(JsonObject document, bool taskHasChoices);

    /// <summary>Reads a YAML value: a list, "!function module.name", a field name, or a template.</summary>
    public static DocField Parse(object? value, string where) => value switch
    {
        null => throw new InvalidDataException($"{where}: missing"),
        IEnumerable<object> items when value is not string => new Literal(items.Select(i => i?.ToString() ?? "").Cast<object?>().ToList()),
        string s when s.StartsWith("!function ", StringComparison.Ordinal) => new Function(s["!function ".Length..].Trim(), HarnessFunctions.Document(s["!function ".Length..].Trim(), where)),
        string s when !s.Contains("{{", StringComparison.Ordinal) && IsIdentifier(s) => new Field(s, Template.Parse("{{" + s + "}}", where)),
        string s => new Templated(Template.Parse(s, where)),
        _ => new Literal(value.ToString()),
    };

    private static bool IsIdentifier(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !char.IsAsciiDigit(s[0]);

    /// <summary>A field of the document, used as it is (the harness's <c>doc[name]</c> when the name is a feature).</summary>
    public sealed record Field(string Name, Template Fallback) : DocField
    {
        /// <inheritdoc />
        public override object? Evaluate(JsonObject document, bool taskHasChoices) =>
            document.ContainsKey(Name) ? Template.FromJson(document[Name]) : Coerce(Fallback.Evaluate(document), taskHasChoices);
    }

    /// <summary>A Jinja template.</summary>
    public sealed record Templated(Template Template) : DocField
    {
        /// <inheritdoc />
        public override object? Evaluate(JsonObject document, bool taskHasChoices) => Coerce(Template.Evaluate(document), taskHasChoices);
    }

    /// <summary>A constant (doc_to_choice: ["A", "B", "C", "D"], or a fixed text).</summary>
    public sealed record Literal(object? Value) : DocField
    {
        /// <inheritdoc />
        public override object? Evaluate(JsonObject document, bool taskHasChoices) => Value;
    }

    /// <summary>A function of the harness's task code, reimplemented (e.g. winogrande's doc_to_text).</summary>
    public sealed record Function(string Name, Func<JsonObject, object?> Body) : DocField
    {
        /// <inheritdoc />
        public override object? Evaluate(JsonObject document, bool taskHasChoices) => Body(document);
    }

    /// <summary>The harness turns a rendered text of digits into an index when the task has choices (ast.literal_eval).</summary>
    private static object? Coerce(object? value, bool taskHasChoices) =>
        value is string s && taskHasChoices && PythonText.IsDigits(s) ? long.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : value;
}
