using System.Text.Json;
using System.Text.Unicode;

namespace Dclm.Server.Api;

/// <summary>
/// Checks that every string in a JSON request body is text: valid UTF-8, and no <c>\uD800</c>-style escape of
/// an unpaired UTF-16 surrogate. The JSON reader accepts both (RFC 8259's grammar allows the escapes) and only
/// fails when a field is later read as a string, so this runs first and names the field at fault.
/// </summary>
internal static class RequestText
{
    private sealed class Container(bool isArray, string segment)
    {
        public readonly bool IsArray = isArray;
        public readonly string Segment = segment;
        public int Count;
        public string? Property;
    }

    /// <summary>Throws a 400 <see cref="ApiException"/> naming the first string that is not text; syntax errors are left to the deserializer.</summary>
    public static void Check(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        var open = new List<Container>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        open.Add(new Container(reader.TokenType == JsonTokenType.StartArray, NextSegment(open)));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.RemoveAt(open.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        CheckString(ref reader, open, "a field name in ");
                        open[^1].Property = reader.GetString();
                        break;
                    case JsonTokenType.String:
                        CheckString(ref reader, open, "");
                        NextSegment(open);
                        break;
                    default:
                        NextSegment(open);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON: the deserializer reports it with its position.
        }
    }

    // The path segment of the value that starts now ("messages", "[0]"), counting array items as it goes.
    private static string NextSegment(List<Container> open)
    {
        if (open.Count == 0) return "";
        var container = open[^1];
        return container.IsArray ? $"[{container.Count++}]" : container.Property ?? "";
    }

    private static void CheckString(ref Utf8JsonReader reader, List<Container> open, string prefix)
    {
        if (!Utf8.IsValid(reader.ValueSpan))
            throw ApiException.BadRequest($"{prefix}{Field(open, prefix.Length == 0)} is not valid UTF-8; send text encoded as UTF-8", Param(open, prefix.Length == 0));
        if (!reader.ValueIsEscaped) return;
        try
        {
            reader.GetString();
        }
        catch (InvalidOperationException)
        {
            throw ApiException.BadRequest(
                $"{prefix}{Field(open, prefix.Length == 0)} holds an unpaired UTF-16 surrogate escape (such as \\ud800 with no low surrogate after it), which is not text",
                Param(open, prefix.Length == 0));
        }
    }

    // The JSON path of the string being read, e.g. "messages[1].content" or "stop[0]".
    private static string Field(List<Container> open, bool isValue)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 1; i < open.Count; i++) Append(text, open[i].Segment);
        if (isValue && open.Count > 0)
            Append(text, open[^1].IsArray ? $"[{open[^1].Count}]" : open[^1].Property ?? "");
        return text.Length == 0 ? "the body" : text.ToString();
    }

    private static void Append(System.Text.StringBuilder text, string segment)
    {
        if (text.Length > 0 && !segment.StartsWith('[')) text.Append('.');
        text.Append(segment);
    }

    // OpenAI's param names the top-level field (none for a field name at the top level).
    private static string? Param(List<Container> open, bool isValue) =>
        open.Count > 1 ? open[1].Segment : isValue && open.Count == 1 ? open[0].Property : null;
}
