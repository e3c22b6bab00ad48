using System.Security.Cryptography;
using Dclm.Inference.Constraints;

namespace Dclm.Chat.Tools;

/// <summary>How a model family writes its function calls in its output.</summary>
public enum ToolCallSyntax
{
    /// <summary>Hermes style (Qwen 2.5 and 3, Hermes 2 Pro and their fine-tunes): <c>&lt;tool_call&gt;{"name": …, "arguments": {…}}&lt;/tool_call&gt;</c>, after optional text.</summary>
    Hermes,
    /// <summary>Llama 3.1 to 3.3: the whole reply is one <c>{"name": …, "parameters": {…}}</c> object (after an optional <c>&lt;|python_tag|&gt;</c>).</summary>
    JsonObject,
    /// <summary>Mistral: the whole reply is <c>[TOOL_CALLS]</c> and a JSON array of <c>{"name": …, "arguments": {…}}</c> (the marker is a control token, so decoding drops it).</summary>
    JsonArray,
}

/// <summary>
/// The function-calling format of a model, read from its chat template: which syntax its calls take and the
/// shape of the call ids its template accepts back.
/// </summary>
public sealed class ToolCallFormat
{
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private ToolCallFormat(ToolCallSyntax syntax) => Syntax = syntax;

    /// <summary>The syntax of the model's calls.</summary>
    public ToolCallSyntax Syntax { get; }

    /// <summary>
    /// The format a Jinja chat template describes, or null when it takes no tools or writes calls in a syntax
    /// not recognised here (for example GLM's <c>&lt;arg_key&gt;</c> pairs or Command R's action blocks).
    /// </summary>
    public static ToolCallFormat? Detect(string template)
    {
        bool Has(string text) => template.Contains(text, StringComparison.Ordinal);
        if (!Has("tools")) return null;
        if (Has("<tool_call>") && !Has("<arg_key>")) return new(ToolCallSyntax.Hermes);
        if (Has("[TOOL_CALLS]")) return new(ToolCallSyntax.JsonArray);
        if (Has("<|start_header_id|>") && Has("\"parameters\"")) return new(ToolCallSyntax.JsonObject);
        return null;
    }

    /// <summary>
    /// The shape of one call of one of <paramref name="tools"/> in this syntax, written as the model's template
    /// shows it, for forcing a call (<c>tool_choice</c> "required" or a named function): the fixed text around
    /// the name and the arguments. The arguments follow the function's parameter schema where the schema
    /// grammar can enforce it (<see cref="JsonSchemaProgram"/>), else they may be any JSON object.
    /// </summary>
    public IReadOnlyList<GrammarPart> ForcedCall(IReadOnlyList<ToolDefinition> tools)
    {
        var (before, argumentsKey, after) = Syntax switch
        {
            ToolCallSyntax.Hermes => ("<tool_call>\n{\"name\": \"", "arguments", "}\n</tool_call>"),
            ToolCallSyntax.JsonObject => ("{\"name\": \"", "parameters", "}"),
            _ => ("[{\"name\": \"", "arguments", "}]"),
        };
        var schemas = tools.Select(tool => ArgumentsSchema(tool)).ToArray();
        return [GrammarPart.Literal(before), GrammarPart.OneOf(tools.Select(t => t.Name).ToList()), GrammarPart.Literal($"\", \"{argumentsKey}\": "),
            GrammarPart.JsonObject(schemas), GrammarPart.Literal(after)];
    }

    /// <summary>The function's parameters as a grammar, or null (any object) when it has none or uses keywords the grammar cannot enforce.</summary>
    private static JsonSchemaProgram? ArgumentsSchema(ToolDefinition tool)
    {
        if (tool.Parameters is not { } parameters) return null;
        try { return JsonSchemaProgram.Compile(parameters); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>A new reader of one reply's calls, for a reply that streams in.</summary>
    public ToolCallExtractor CreateExtractor() => new(this);

    /// <summary>
    /// A whole reply split into its text and its calls; with no calls, the text is the reply itself, and
    /// <c>Malformed</c> says whether it began a call that did not parse.
    /// </summary>
    public (string Content, IReadOnlyList<ToolCall> Calls, bool Malformed) Split(string reply)
    {
        var extractor = CreateExtractor();
        string content = extractor.Push(reply);
        var (rest, calls) = extractor.Finish();
        return (content + rest, calls, extractor.Malformed);
    }

    /// <summary>
    /// A fresh call id: nine letters and digits for Mistral (whose templates refuse any other length back),
    /// else OpenAI's <c>call_</c> and 24 of them.
    /// </summary>
    public string NewCallId() => Syntax == ToolCallSyntax.JsonArray
        ? RandomNumberGenerator.GetString(Alphanumerics, 9)
        : "call_" + RandomNumberGenerator.GetString(Alphanumerics, 24);
}
