using System.Text.Json;
using System.Text;

namespace Dclm.Chat.Tools;

/// <summary>
/// Separates one reply's function calls from its text as the text streams in. <see cref="Push"/> returns what
/// may be shown as content now and holds back whatever might be the start of a call; <see cref="Finish"/>
/// parses what was held. Text that only looked like a call (bad JSON, no name) comes back as content, so
/// nothing the model wrote is lost.
/// </summary>
public sealed class ToolCallExtractor
{
    private const string HermesOpen = "<tool_call>", HermesClose = "</tool_call>";
    // Markers some tokenizers decode as text; the syntax's JSON may follow them.
    private static readonly string[] JsonMarkers = ["[TOOL_CALLS]", "<|python_tag|>"];
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64 };

    private readonly ToolCallFormat _format;
    private readonly StringBuilder _held = new();
    private bool _capturing, _passing;

    internal ToolCallExtractor(ToolCallFormat format) => _format = format;

    /// <summary>Takes the next piece of the reply; returns the text that is certainly content (possibly empty).</summary>
    public string Push(string piece)
    {
        if (_passing) return piece;
        _held.Append(piece);
        if (_capturing) return "";
        return _format.Syntax == ToolCallSyntax.Hermes ? PushHermes() : PushWholeReply();
    }

    /// <summary>
    /// The end of the reply: the content still held back (text after the calls, or all of it when the calls
    /// do not parse) and the calls, in order.
    /// </summary>
    public (string Content, IReadOnlyList<ToolCall> Calls) Finish()
    {
        string held = _held.ToString();
        _held.Clear();
        if (!_capturing) return (held, []);
        var calls = new List<ToolCall>();
        string? rest = _format.Syntax == ToolCallSyntax.Hermes ? ParseHermes(held, calls) : ParseWholeReply(held, calls);
        Malformed = rest is null;
        return rest is null ? (held, []) : (rest, calls);
    }

    /// <summary>After <see cref="Finish"/>: whether the reply started a call that did not parse (returned as text instead).</summary>
    public bool Malformed { get; private set; }

    private string PushHermes()
    {
        string text = _held.ToString();
        int start = text.IndexOf(HermesOpen, StringComparison.Ordinal);
        if (start >= 0)
        {
            _capturing = true;
            _held.Remove(0, start);
            return text[..start];
        }
        int keep = PartialMarker.Length(text, HermesOpen);
        _held.Remove(0, text.Length - keep);
        return text[..^keep];
    }

    private string PushWholeReply()
    {
        string text = _held.ToString();
        string body = StripMarker(text.TrimStart());
        if (body.Length == 0 || JsonMarkers.Any(m => m.StartsWith(text.TrimStart(), StringComparison.Ordinal))) return ""; // undecided yet
        if (body[0] == (_format.Syntax == ToolCallSyntax.JsonArray ? '[' : '{')) { _capturing = true; return ""; }
        _passing = true;
        _held.Clear();
        return text;
    }

    private static string StripMarker(string text)
    {
        foreach (string marker in JsonMarkers)
            if (text.StartsWith(marker, StringComparison.Ordinal)) return text[marker.Length..].TrimStart();
        return text;
    }

    /// <summary>Hermes blocks one after another; returns the text left after them, or null when a block does not parse.</summary>
    private string? ParseHermes(string text, List<ToolCall> calls)
    {
        int at = 0;
        var rest = new StringBuilder();
        while (true)
        {
            int open = text.IndexOf(HermesOpen, at, StringComparison.Ordinal);
            if (open < 0) break;
            rest.Append(text, at, open - at);
            int bodyStart = open + HermesOpen.Length;
            int close = text.IndexOf(HermesClose, bodyStart, StringComparison.Ordinal);
            // A reply may end right after the JSON, before the closing tag.
            int bodyEnd = close < 0 ? text.Length : close;
            if (Call(text[bodyStart..bodyEnd], "arguments") is not { } call) return null;
            calls.Add(call);
            at = close < 0 ? text.Length : close + HermesClose.Length;
        }
        rest.Append(text, at, text.Length - at);
        return rest.ToString().Trim();
    }

    /// <summary>The whole reply as one call object (Llama) or an array of them (Mistral); null when it is not that.</summary>
    private string? ParseWholeReply(string text, List<ToolCall> calls)
    {
        string body = StripMarker(text.Trim());
        if (_format.Syntax == ToolCallSyntax.JsonObject)
        {
            if (Call(body, "parameters", "arguments") is not { } call) return null;
            calls.Add(call);
            return "";
        }
        try
        {
            using var document = JsonDocument.Parse(body, JsonOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0) return null;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (Call(item, "arguments") is not { } call) return null;
                calls.Add(call);
            }
            return "";
        }
        catch (JsonException) { return null; }
    }

    private ToolCall? Call(string json, params string[] argumentKeys)
    {
        try
        {
            using var document = JsonDocument.Parse(json, JsonOptions);
            return Call(document.RootElement, argumentKeys);
        }
        catch (JsonException) { return null; }
    }

    /// <summary>A call object: a valid function name and arguments that are an object (or JSON text of one); none is {}.</summary>
    private ToolCall? Call(JsonElement item, params string[] argumentKeys)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !ToolDefinition.IsValidName(name.GetString())) return null;
        string arguments = "{}";
        foreach (string key in argumentKeys)
        {
            if (!item.TryGetProperty(key, out var value)) continue;
            if (value.ValueKind == JsonValueKind.Object) arguments = value.GetRawText();
            else if (value.ValueKind == JsonValueKind.String && ToolCall.IsJsonObject(value.GetString()!)) arguments = value.GetString()!;
            else return null;
            break;
        }
        return new ToolCall(_format.NewCallId(), name.GetString()!, arguments);
    }
}
