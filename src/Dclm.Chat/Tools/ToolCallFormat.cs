using System.Security.Cryptography;
using Dclm.Chat.Jinja;
using Dclm.Chat.Tools.Syntax;
using Dclm.Inference.Constraints;

namespace Dclm.Chat.Tools;

/// <summary>
/// The function-calling format of a model, read from its chat template as llama.cpp's server reads it: which syntax its
/// calls take, the markers that syntax needs kept in the reply's text, how a forced call is written, and the shape of
/// the call ids its template accepts back.
/// </summary>
public sealed class ToolCallFormat
{
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private ToolCallFormat(ToolCallSyntax syntax, bool showsTools) => (Syntax, ShowsTools) = (syntax, showsTools);

    /// <summary>The syntax of the model's calls.</summary>
    public ToolCallSyntax Syntax { get; }

    /// <summary>Whether the template shows the offered tools to the model (it reads <c>tools</c>, or Firefunction's <c>functions</c>).</summary>
    public bool ShowsTools { get; }

    /// <summary>
    /// The format a Jinja chat template describes, detected by the markers llama.cpp's server looks for, in its order;
    /// a template with none of them gets <see cref="ToolCallSyntax.GenericJson"/>.
    /// </summary>
    public static ToolCallFormat Detect(string template)
    {
        bool Has(string text) => template.Contains(text, StringComparison.Ordinal);
        bool shows = Has("tools") || Has(" functools[");
        ToolCallSyntax syntax =
            Has(DeepSeekR1Reader.CallsBegin) ? ToolCallSyntax.DeepSeekR1
            : Has("<|END_THINKING|><|START_ACTION|>") ? ToolCallSyntax.CommandR7b
            : Has(">>>all") ? ToolCallSyntax.FunctionaryV32
            : Has(" functools[") ? ToolCallSyntax.FirefunctionV2
            // GLM 4.5 writes <tool_call> with <arg_key>/<arg_value> pairs, not JSON.
            : Has("<tool_call>") && !Has("<arg_key>") ? ToolCallSyntax.Hermes
            : Has("<|start_header_id|>") && Has("<function=") ? ToolCallSyntax.FunctionaryV31
            : Has("<|start_header_id|>ipython<|end_header_id|>") || Has("<|start_header_id|>") && Has("\"parameters\"") ? ToolCallSyntax.JsonObject
            : Has("[TOOL_CALLS]") ? ToolCallSyntax.JsonArray
            : ToolCallSyntax.GenericJson;
        return new(syntax, shows);
    }

    /// <summary>The format's name as users know it, for messages.</summary>
    public string Name => Syntax switch
    {
        ToolCallSyntax.Hermes => "Hermes <tool_call>",
        ToolCallSyntax.JsonObject => "Llama 3.x JSON",
        ToolCallSyntax.JsonArray => "Mistral [TOOL_CALLS]",
        ToolCallSyntax.FunctionaryV31 => "Functionary v3.1 <function=name>",
        ToolCallSyntax.FunctionaryV32 => "Functionary v3.2 >>>name",
        ToolCallSyntax.FirefunctionV2 => "Firefunction v2 functools[...]",
        ToolCallSyntax.CommandR7b => "Command R7B <|START_ACTION|>",
        ToolCallSyntax.DeepSeekR1 => "DeepSeek R1 <｜tool▁calls▁begin｜>",
        _ => "generic JSON",
    };

    /// <summary>
    /// The syntax's markers, which some vocabularies make control tokens (dropped when a reply is decoded): those must be
    /// kept in the reply's text for the calls to be read.
    /// </summary>
    public IReadOnlyList<string> Markers => Syntax switch
    {
        ToolCallSyntax.Hermes => ["<tool_call>", "</tool_call>"],
        ToolCallSyntax.JsonObject or ToolCallSyntax.FunctionaryV31 => ["<|python_tag|>"],
        ToolCallSyntax.JsonArray => [MistralReader.Marker],
        ToolCallSyntax.CommandR7b => [CommandR7bReader.StartAction, CommandR7bReader.EndAction, CommandR7bReader.StartResponse, CommandR7bReader.EndResponse],
        ToolCallSyntax.DeepSeekR1 => [DeepSeekR1Reader.CallsBegin, DeepSeekR1Reader.CallsEnd, DeepSeekR1Reader.CallBegin, DeepSeekR1Reader.CallEnd, DeepSeekR1Reader.Separator],
        _ => [],
    };

    /// <summary>Whether every reply is read, tools or not: Functionary v3.2 opens plain answers with "all\n".</summary>
    public bool ReadsEveryReply => Syntax == ToolCallSyntax.FunctionaryV32;

    /// <summary>
    /// Text variables the template reads besides transformers' own, as llama.cpp's server passes them: Firefunction v2's
    /// <c>functions</c> (the tools as indented JSON, "" without) and <c>datetime</c>; null for other formats.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Context(IReadOnlyList<ToolDefinition>? tools, DateTimeOffset now) => Syntax != ToolCallSyntax.FirefunctionV2 ? null
        : new Dictionary<string, string>
        {
            ["functions"] = tools is null ? "" : JinjaFormat.Json(JinjaChatValues.Tools(tools), indent: 2),
            ["datetime"] = JinjaFormat.Strftime(now.UtcDateTime, "%b %d %Y %H:%M:%S GMT"),
        };

    /// <summary>
    /// The shape of one call of one of <paramref name="tools"/> in this syntax, written as the model's template shows it,
    /// for forcing a call (<c>tool_choice</c> "required" or a named function): the fixed text around the name and the
    /// arguments, which follow the function's parameter schema where the schema grammar can enforce it
    /// (<see cref="JsonSchemaProgram"/>), else may be any JSON object. <paramref name="isText"/> tells whether a marker is
    /// text in the model's vocabulary; a grammar cannot write a control token, so a marker that is one is left out where the
    /// reply still reads without it (Mistral, Command R7B), and otherwise no call can be forced (null: DeepSeek R1, whose
    /// markers are control tokens in its own vocabulary, and Hermes where its tags are).
    /// </summary>
    public IReadOnlyList<GrammarPart>? ForcedCall(IReadOnlyList<ToolDefinition> tools, Func<string, bool> isText)
    {
        string Optional(string marker) => isText(marker) ? marker : "";
        (string Before, string Middle, string After)? shape = Syntax switch
        {
            ToolCallSyntax.Hermes when isText("<tool_call>") && isText("</tool_call>") => ("<tool_call>\n{\"name\": \"", "\", \"arguments\": ", "}\n</tool_call>"),
            ToolCallSyntax.JsonObject => ("{\"name\": \"", "\", \"parameters\": ", "}"),
            ToolCallSyntax.JsonArray => (Optional(MistralReader.Marker) + "[{\"name\": \"", "\", \"arguments\": ", "}]"),
            ToolCallSyntax.FunctionaryV31 => ("<function=", ">", "</function>"),
            ToolCallSyntax.FunctionaryV32 => ("", "\n", ""), // the prompt ends with ">>>"
            ToolCallSyntax.FirefunctionV2 => (" " + FirefunctionV2Reader.Marker + "[{\"name\": \"", "\", \"arguments\": ", "}]"),
            ToolCallSyntax.CommandR7b => (Optional(CommandR7bReader.StartAction) + "[{\"tool_call_id\": \"0\", \"tool_name\": \"", "\", \"parameters\": ",
                "}]" + Optional(CommandR7bReader.EndAction)),
            ToolCallSyntax.DeepSeekR1 when Markers.All(isText) => (DeepSeekR1Reader.CallsBegin + DeepSeekR1Reader.CallBegin + "function" + DeepSeekR1Reader.Separator,
                "\n```json\n", "\n```" + DeepSeekR1Reader.CallEnd + DeepSeekR1Reader.CallsEnd),
            ToolCallSyntax.GenericJson => ("{\"tool_calls\": [{\"name\": \"", "\", \"arguments\": ", "}]}"),
            _ => null,
        };
        if (shape is not var (before, middle, after)) return null;
        var schemas = tools.Select(ArgumentsSchema).ToArray();
        var parts = new List<GrammarPart>();
        if (before.Length > 0) parts.Add(GrammarPart.Literal(before));
        parts.AddRange([GrammarPart.OneOf(tools.Select(t => t.Name).ToList()), GrammarPart.Literal(middle), GrammarPart.JsonObject(schemas)]);
        if (after.Length > 0) parts.Add(GrammarPart.Literal(after));
        return parts;
    }

    /// <summary>The function's parameters as a grammar, or null (any object) when it has none or uses keywords the grammar cannot enforce.</summary>
    private static JsonSchemaProgram? ArgumentsSchema(ToolDefinition tool)
    {
        if (tool.Parameters is not { } parameters) return null;
        try { return JsonSchemaProgram.Compile(parameters); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>
    /// A new reader of one reply, for a reply that streams in: its calls taken out, or with <paramref name="withCalls"/>
    /// false (no tools offered) only the syntax's own text dropped (Functionary's "all\n").
    /// </summary>
    public ToolCallExtractor CreateExtractor(bool withCalls = true) => new(this, Reader(), withCalls);

    private CallReader Reader() => Syntax switch
    {
        ToolCallSyntax.Hermes => new HermesReader(),
        ToolCallSyntax.JsonObject => new Llama3Reader(),
        ToolCallSyntax.JsonArray => new MistralReader(),
        ToolCallSyntax.FunctionaryV31 => new FunctionaryV31Reader(),
        ToolCallSyntax.FunctionaryV32 => new FunctionaryV32Reader(),
        ToolCallSyntax.FirefunctionV2 => new FirefunctionV2Reader(),
        ToolCallSyntax.CommandR7b => new CommandR7bReader(),
        ToolCallSyntax.DeepSeekR1 => new DeepSeekR1Reader(),
        _ => new GenericJsonReader(),
    };

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
