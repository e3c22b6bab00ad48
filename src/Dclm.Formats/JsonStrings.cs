using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Dclm.Formats;

/// <summary>A string (or member name) in a JSON document that is not text, and where it is.</summary>
/// <param name="Field">The JSON path of the value, e.g. <c>messages[0].content</c>; for a name, of the object holding it ("" at the top).</param>
/// <param name="TopLevelField">The member of the top-level object it is inside, or null for a name at the top level.</param>
/// <param name="IsName">Whether the member name itself is at fault.</param>
/// <param name="IsInvalidUtf8">Whether the bytes are not UTF-8 (else: an unpaired surrogate escape).</param>
public sealed record NonTextString(string Field, string? TopLevelField, bool IsName, bool IsInvalidUtf8)
{
    /// <summary>One phrase: "messages[0].content is not valid UTF-8", "a field name in stop holds an unpaired …".</summary>
    public override string ToString()
    {
        string where = IsName ? $"a field name in {(Field.Length == 0 ? "the top-level object" : Field)}" : Field.Length == 0 ? "the document" : Field;
        return IsInvalidUtf8
            ? $"{where} is not valid UTF-8"
            : $"{where} holds an unpaired UTF-16 surrogate escape (such as \\ud800 with no low surrogate after it), which is not text";
    }
}

/// <summary>
/// Finds the strings and member names of a JSON document that are not text: invalid UTF-8, or an escape of an
/// unpaired UTF-16 surrogate (<c>"\ud800"</c>). JSON's grammar allows such escapes, and System.Text.Json only
/// refuses them when a value is read as a string, with an InvalidOperationException; files and request
/// bodies are checked once, up front, so that no later read can fail.
/// </summary>
public static class JsonStrings
{
    private sealed class Container(bool isArray, string segment)
    {
        public readonly bool IsArray = isArray;
        public readonly string Segment = segment;
        public int Count;
        public string? Property;
    }

    /// <summary>Throws a <see cref="ModelFileException"/> for <paramref name="path"/> naming the first string of <paramref name="what"/> that is not text.</summary>
    public static void Check(ReadOnlySpan<byte> json, string path, string what)
    {
        if (FindNonText(json) is { } found) throw new ModelFileException(path, $"{what}: {Printable.Text(found.ToString())}");
    }

    /// <summary>The first string or name that is not text, or null; a syntax error ends the search (the parser reports it).</summary>
    public static NonTextString? FindNonText(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip });
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
                        if (Problem(ref reader) is bool nameUtf8) return new NonTextString(Path(open, isValue: false), open.Count > 1 ? open[1].Segment : null, true, nameUtf8);
                        open[^1].Property = reader.GetString();
                        break;
                    case JsonTokenType.String:
                        if (Problem(ref reader) is bool valueUtf8) return new NonTextString(Path(open, isValue: true), TopLevel(open), false, valueUtf8);
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
        }
        return null;
    }

    // null when the string is text; else whether it is invalid UTF-8 (true) or holds an unpaired surrogate escape (false).
    private static bool? Problem(ref Utf8JsonReader reader)
    {
        if (!Utf8.IsValid(reader.ValueSpan)) return true;
        if (!reader.ValueIsEscaped) return null;
        try
        {
            reader.GetString();
            return null;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // The path segment of the value that starts now ("messages", "[0]"), counting array items as it goes.
    private static string NextSegment(List<Container> open)
    {
        if (open.Count == 0) return "";
        var container = open[^1];
        return container.IsArray ? $"[{container.Count++}]" : container.Property ?? "";
    }

    private static string Path(List<Container> open, bool isValue)
    {
        var text = new StringBuilder();
        for (int i = 1; i < open.Count; i++) Append(text, open[i].Segment);
        if (isValue && open.Count > 0) Append(text, open[^1].IsArray ? $"[{open[^1].Count}]" : open[^1].Property ?? "");
        return text.ToString();
    }

    private static string? TopLevel(List<Container> open) => open.Count > 1 ? open[1].Segment : open.Count == 1 ? open[0].Property : null;

    private static void Append(StringBuilder text, string segment)
    {
        if (text.Length > 0 && !segment.StartsWith('[')) text.Append('.');
        text.Append(segment);
    }
}
