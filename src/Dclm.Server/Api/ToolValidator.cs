using System.Text.Json;
using Dclm.Chat.Tools;

namespace Dclm.Server.Api;

/// <summary>Checks the function-calling fields of a chat request: tools, tool_choice, and the tool parts of messages.</summary>
internal static class ToolValidator
{
    public const int MaxTools = 128;
    public const int MaxToolCalls = 128;
    public const int MaxCallIdLength = 256;

    /// <summary>
    /// A request's <c>tools</c> and <c>tool_choice</c>: the functions the model may call (none when the request
    /// offers none or sets <c>tool_choice</c> to "none"), and the ones a reply must call one of — all offered ones
    /// for "required", the named one for <c>{"type": "function", "function": {"name": …}}</c>, none for "auto".
    /// </summary>
    public static ToolRequest Read(JsonElement tools, JsonElement toolChoice)
    {
        var (mode, function) = Choice(toolChoice);
        var offered = Offered(tools, mode);
        if (offered is null && mode is "required" or "function")
            throw ApiException.BadRequest("tool_choice asks for a call, but the request offers no tools", "tool_choice");
        var forced = mode switch
        {
            "required" => offered,
            "function" => offered!.Where(t => t.Name == function).ToList() is { Count: 1 } named ? named
                : throw ApiException.BadRequest($"tool_choice names '{function}', which is not among the tools", "tool_choice"),
            _ => null,
        };
        return new ToolRequest(offered, forced);
    }

    /// <summary>The functions offered, or null when there are none or the choice is "none".</summary>
    private static List<ToolDefinition>? Offered(JsonElement tools, string choice)
    {
        if (tools.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return null;
        if (tools.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest("tools must be an array", "tools");
        int count = tools.GetArrayLength();
        if (count > MaxTools) throw ApiException.BadRequest($"tools holds {count} functions; at most {MaxTools} are allowed", "tools");
        if (count == 0 || choice == "none") return null;
        var definitions = new List<ToolDefinition>(count);
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
                throw ApiException.BadRequest("each tool must be an object with type \"function\"", "tools");
            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw ApiException.BadRequest("each tool needs a function object", "tools");
            string name = Name(function, "tools");
            if (definitions.Any(d => d.Name == name)) throw ApiException.BadRequest($"the function '{name}' is defined twice", "tools");
            string? description = null;
            if (function.TryGetProperty("description", out var text) && text.ValueKind != JsonValueKind.Null)
                description = text.ValueKind == JsonValueKind.String ? text.GetString() : throw ApiException.BadRequest($"the description of '{name}' must be a string", "tools");
            JsonElement? parameters = null;
            if (function.TryGetProperty("parameters", out var schema) && schema.ValueKind != JsonValueKind.Null)
                parameters = schema.ValueKind == JsonValueKind.Object ? schema.Clone() : throw ApiException.BadRequest($"the parameters of '{name}' must be a JSON Schema object", "tools");
            definitions.Add(new ToolDefinition(name, description, parameters));
        }
        return definitions;
    }

    /// <summary>The mode ("auto", "none", "required" or "function") and, for "function", the function's name.</summary>
    private static (string Mode, string? Function) Choice(JsonElement toolChoice)
    {
        switch (toolChoice.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null: return ("auto", null);
            case JsonValueKind.String when toolChoice.GetString() is "auto" or "none" or "required": return (toolChoice.GetString()!, null);
            case JsonValueKind.Object when toolChoice.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "function"
                && toolChoice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object:
                return ("function", Name(function, "tool_choice"));
            default:
                throw ApiException.BadRequest("tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
        }
    }

    /// <summary>An assistant message's earlier calls: id, type "function", and a function with a name and JSON-object arguments.</summary>
    public static IReadOnlyList<ToolCall>? ToolCalls(JsonElement calls)
    {
        if (calls.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return null;
        if (calls.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest("tool_calls must be an array", "messages");
        if (calls.GetArrayLength() > MaxToolCalls) throw ApiException.BadRequest($"a message may hold at most {MaxToolCalls} tool calls", "messages");
        var list = new List<ToolCall>();
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("each tool call must be an object", "messages");
            if (call.TryGetProperty("type", out var type) && (type.ValueKind != JsonValueKind.String || type.GetString() != "function"))
                throw ApiException.BadRequest("a tool call's type must be \"function\"", "messages");
            string id = call.TryGetProperty("id", out var value) ? CallId(value) : throw ApiException.BadRequest("each tool call needs an id", "messages");
            if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw ApiException.BadRequest("each tool call needs a function object", "messages");
            string name = Name(function, "messages");
            if (!function.TryGetProperty("arguments", out var arguments) || arguments.ValueKind != JsonValueKind.String)
                throw ApiException.BadRequest($"the call of '{name}' needs arguments as a string of JSON", "messages");
            string json = arguments.GetString()!;
            if (!ToolCall.IsJsonObject(json)) throw ApiException.BadRequest($"the arguments of the call of '{name}' are not a JSON object", "messages");
            list.Add(new ToolCall(id, name, json));
        }
        return list;
    }

    /// <summary>A tool message's <c>tool_call_id</c>, required.</summary>
    public static string CallId(JsonElement id)
    {
        if (id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 and <= MaxCallIdLength } text)
            throw ApiException.BadRequest($"a tool call id must be a string of 1 to {MaxCallIdLength} characters", "messages");
        return text;
    }

    private static string Name(JsonElement function, string field)
    {
        string? name = function.TryGetProperty("name", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (!ToolDefinition.IsValidName(name))
            throw ApiException.BadRequest($"a function name must be 1 to {ToolDefinition.MaxNameLength} letters, digits, '_' or '-'", field);
        return name!;
    }
}

/// <summary>The functions a chat request offers (null: none), and those a reply must call one of (null: text is fine).</summary>
internal sealed record ToolRequest(IReadOnlyList<ToolDefinition>? Offered, IReadOnlyList<ToolDefinition>? Forced);
