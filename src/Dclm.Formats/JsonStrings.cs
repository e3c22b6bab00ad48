using System.Text.Json;
using System.Text.Unicode;

namespace Dclm.Formats;

/// <summary>
/// Checks that every string and member name of a JSON file is text: valid UTF-8 and no escape of an unpaired
/// UTF-16 surrogate (<c>"\ud800"</c>). JSON's grammar allows such escapes and System.Text.Json only refuses them
/// when a value is read as a string, with an InvalidOperationException, so files are checked once up front.
/// </summary>
public static class JsonStrings
{
    /// <summary>Throws a <see cref="ModelFileException"/> for <paramref name="path"/> naming the first string that is not text; leaves syntax errors to the parser.</summary>
    public static void Check(ReadOnlySpan<byte> json, string path, string what)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) continue;
                if (!Utf8.IsValid(reader.ValueSpan))
                    throw new ModelFileException(path, $"{what} holds a string that is not valid UTF-8 (at byte {reader.TokenStartIndex})");
                if (!reader.ValueIsEscaped) continue;
                try
                {
                    reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new ModelFileException(path, $"{what} holds a string with an unpaired UTF-16 surrogate escape (at byte {reader.TokenStartIndex})");
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the caller's parser reports where.
        }
    }
}
