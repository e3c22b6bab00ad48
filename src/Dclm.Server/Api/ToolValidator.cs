using System.Text.Json;
using Dclm.Server.Chat.Tools;

namespace Dclm.Server.Api;

/// <summary>Checks the function-calling fields of a chat request: tools, tool_choice, and the tool parts of messages.</summary>
internal static class ToolValidator
{
    public const int MaxTools = 128;
    public const int MaxToolCalls = 128;
    public const int MaxCallIdLength = 256;

    /// <summary>
    /// The functions the model may call, or null when the request offers none or sets <c>tool_choice</c> to
    /// "none". "auto" (the default) lets the model choose; "required" and a named function would need
    /// constrained decoding, which this server does not have, so they are refused.
    /// </summary>
    public static IReadOnlyList<ToolDefinition>? Tools(JsonElement tools, JsonElement toolChoice)
    {
        string? choice = toolChoice.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => "auto",
            JsonValueKind.String => toolChoice.GetString(),
            _ => null,
        };
        if (choice is not ("auto" or "none"))
            throw ApiException.BadRequest(choice is "required" || toolChoice.ValueKind == JsonValueKind.Object
                ? "tool_choice may be \"auto\" or \"none\"; forcing a call (\"required\" or a named function) needs constrained decoding, which this server does not have"
                : "tool_choice must be \"auto\" or \"none\"", "tool_choice");
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
            if (!IsJsonObject(json)) throw ApiException.BadRequest($"the arguments of the call of '{name}' are not a JSON object", "messages");
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

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException) { return false; }
    }
}
