using System.Text;
using System.Text.Json;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>A call as the reply wrote it, before it is given an id: the function's name and its arguments as JSON object text.</summary>
internal readonly record struct WrittenCall(string Name, string Arguments, string? Id = null);

/// <summary>How a reply opens: not known yet, with its calls, or with text.</summary>
internal enum Opening { Undecided, Calls, Text }

/// <summary>
/// One model family's call syntax, as <see cref="ToolCallExtractor"/> reads it: how a reply may open with calls, which
/// markers start calls after some text, and how a section of calls is read. Each syntax is one file beside this one.
/// </summary>
internal abstract class CallReader
{
    /// <summary>Markers that start the calls anywhere after the reply's text (the earliest one found wins).</summary>
    public virtual IReadOnlyList<string> Openers => [];

    /// <summary>
    /// How a reply that begins with <paramref name="text"/> opens, and how many of its leading characters are the syntax's
    /// own rather than the answer's (Functionary's "all\n"). Undecided holds the text back until more arrives.
    /// </summary>
    public virtual (Opening Opening, int Skip) Open(string text) => (Opening.Text, 0);

    /// <summary>
    /// The calls in <paramref name="section"/> (which starts with an opener, or is the whole reply when it opened with calls)
    /// and the text after them; null when it is not a well-formed section, so the text is shown as it came.
    /// </summary>
    public abstract (List<WrittenCall> Calls, string After)? Read(string section);

    /// <summary>JSON options for reading calls: nesting as deep as a request's own JSON may go.</summary>
    protected static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// The JSON value that starts at <paramref name="start"/> (after whitespace): its end, or -1 when no whole value is
    /// there. Text may follow it (a closing tag, more calls).
    /// </summary>
    protected static int JsonValueEnd(string text, int start)
    {
        while (start < text.Length && char.IsWhiteSpace(text[start])) start++;
        if (start >= text.Length) return -1;
        byte[] bytes = Encoding.UTF8.GetBytes(text[start..]);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read()) return -1;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
            return start + Encoding.UTF8.GetCharCount(bytes, 0, (int)reader.BytesConsumed);
        }
        catch (JsonException) { return -1; }
    }

    /// <summary>The JSON value at <paramref name="start"/> parsed, and its end; null when there is none.</summary>
    protected static (JsonDocument Value, int End)? ReadJson(string text, int start)
    {
        int end = JsonValueEnd(text, start);
        if (end < 0) return null;
        try { return (JsonDocument.Parse(text[start..end], JsonOptions), end); }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// A call from a JSON object with its name under <paramref name="nameKey"/> and its arguments under the first of
    /// <paramref name="argumentKeys"/> present (an object, or JSON text of one; none is {}); null when it is not that.
    /// </summary>
    protected static WrittenCall? Call(JsonElement item, string nameKey, params string[] argumentKeys)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty(nameKey, out var name) || name.ValueKind != JsonValueKind.String
            || !ToolDefinition.IsValidName(name.GetString())) return null;
        return Arguments(item, argumentKeys) is { } arguments ? new WrittenCall(name.GetString()!, arguments) : null;
    }

    /// <summary>The arguments under the first of <paramref name="keys"/> present: an object's text, or a string holding one; {} when none is.</summary>
    protected static string? Arguments(JsonElement item, params string[] keys)
    {
        foreach (string key in keys)
        {
            if (!item.TryGetProperty(key, out var value)) continue;
            if (value.ValueKind == JsonValueKind.Object) return value.GetRawText();
            if (value.ValueKind == JsonValueKind.String && ToolCall.IsJsonObject(value.GetString()!)) return value.GetString()!;
            return null;
        }
        return "{}";
    }

    /// <summary>Calls from a JSON array of call objects (none empty); null when any item is not one.</summary>
    protected static List<WrittenCall>? CallArray(JsonElement array, string nameKey, params string[] argumentKeys)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0) return null;
        var calls = new List<WrittenCall>();
        foreach (var item in array.EnumerateArray())
        {
            if (Call(item, nameKey, argumentKeys) is not { } call) return null;
            calls.Add(call);
        }
        return calls;
    }

    /// <summary>Whether <paramref name="text"/> could still grow into <paramref name="marker"/> (it is a proper prefix of it).</summary>
    protected static bool Partial(string text, string marker) => text.Length < marker.Length && marker.StartsWith(text, StringComparison.Ordinal);

    /// <summary>The position after the whitespace at <paramref name="at"/>.</summary>
    protected static int SkipSpace(string text, int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        return at;
    }

    /// <summary>Whether <paramref name="text"/> has <paramref name="expected"/> at <paramref name="at"/>; if so <paramref name="at"/> moves past it.</summary>
    protected static bool Take(string text, ref int at, string expected)
    {
        if (at + expected.Length > text.Length || string.CompareOrdinal(text, at, expected, 0, expected.Length) != 0) return false;
        at += expected.Length;
        return true;
    }
}
