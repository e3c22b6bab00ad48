using System.Text.Json;

namespace Dclm.Chat.Tools;

/// <summary>A function the model may call: what OpenAI's <c>tools[].function</c> holds.</summary>
/// <param name="Name">The function's name (letters, digits, '_' and '-', at most 64).</param>
/// <param name="Description">What it does, for the model.</param>
/// <param name="Parameters">Its arguments as a JSON Schema object, or null for none.</param>
public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters)
{
    /// <summary>Longest function name OpenAI allows.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Whether <paramref name="name"/> is a valid function name: 1 to 64 of a-z, A-Z, 0-9, '_' and '-'.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}

/// <summary>A call of a function, made by the model or replayed from an earlier assistant message.</summary>
/// <param name="Id">The call's id, which the tool's answer refers back to.</param>
/// <param name="Name">The function called.</param>
/// <param name="Arguments">The arguments as JSON object text, as OpenAI's API carries them.</param>
public sealed record ToolCall(string Id, string Name, string Arguments)
{
    /// <summary>Whether <paramref name="text"/> is JSON whose value is an object, as call arguments must be (nesting up to 64).</summary>
    public static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException) { return false; }
    }
}
