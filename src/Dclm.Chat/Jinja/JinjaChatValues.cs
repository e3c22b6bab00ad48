using System.Text.Json;
using Dclm.Chat.Tools;

namespace Dclm.Chat.Jinja;

/// <summary>
/// A conversation and its tools as the values a chat template reads, shaped as transformers passes them:
/// messages with role, content, tool_calls (arguments as a mapping), tool_call_id and name; tools as
/// <c>{"type": "function", "function": {name, description, parameters}}</c>. Client-supplied text is content,
/// never markup, so a tool description cannot forge a special token.
/// </summary>
internal static class JinjaChatValues
{
    /// <summary>The messages; call arguments a mapping, or the client's JSON text when <paramref name="argumentsAsText"/>.</summary>
    public static List<object?> Messages(IReadOnlyList<ChatTurn> messages, bool argumentsAsText) => messages.Select(m =>
    {
        var message = new Dictionary<string, object?>
        {
            // A role of plain letters (the API allows system, user, assistant and tool) is template text; anything else content.
            ["role"] = m.Role.Length > 0 && m.Role.All(c => c is >= 'a' and <= 'z' or '_') ? JinjaText.Markup(m.Role) : JinjaText.Content(m.Role),
            ["content"] = JinjaText.Content(m.Content),
        };
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            message["tool_calls"] = calls.Select(call => (object?)new Dictionary<string, object?>
            {
                ["id"] = JinjaText.Content(call.Id),
                ["type"] = JinjaText.Markup("function"),
                ["function"] = new Dictionary<string, object?>
                {
                    ["name"] = JinjaText.Content(call.Name),
                    ["arguments"] = argumentsAsText ? JinjaText.Content(call.Arguments) : Arguments(call.Arguments),
                },
            }).ToList();
        }
        if (m.ToolCallId is { } id) message["tool_call_id"] = JinjaText.Content(id);
        if (m.Name is { } name) message["name"] = JinjaText.Content(name);
        return (object?)message;
    }).ToList();

    public static List<object?> Tools(IReadOnlyList<ToolDefinition> tools) => tools.Select(tool =>
    {
        var function = new Dictionary<string, object?> { ["name"] = JinjaText.Content(tool.Name) };
        if (tool.Description is { } description) function["description"] = JinjaText.Content(description);
        if (tool.Parameters is { } parameters) function["parameters"] = FromJson(parameters);
        return (object?)new Dictionary<string, object?> { ["type"] = JinjaText.Markup("function"), ["function"] = function };
    }).ToList();

    /// <summary>Arguments as a mapping, as chat templates expect them; text that is not a JSON object stays a string.</summary>
    private static object? Arguments(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return FromJson(document.RootElement);
        }
        catch (JsonException) { }
        return JinjaText.Content(arguments);
    }

    /// <summary>A JSON value as a template value: objects keep their key order, integers are 64-bit where they fit.</summary>
    public static object? FromJson(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => value.EnumerateObject().Aggregate(new Dictionary<string, object?>(), (map, p) => { map[p.Name] = FromJson(p.Value); return map; }),
        JsonValueKind.Array => value.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => JinjaText.Content(value.GetString()!),
        JsonValueKind.Number => value.TryGetInt64(out long whole) ? (object)whole : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
