namespace Dclm.Data.Text;

/// <summary>Line and paragraph splitting with DCLM's <c>split_paragraphs</c> semantics (strip, drop empties).</summary>
public static class TextSegments
{
    /// <summary>Non-empty, stripped segments separated by <paramref name="separator"/> ("\n" lines, "\n\n" paragraphs).</summary>
    public static List<string> SplitNonEmpty(string text, string separator)
    {
        var result = new List<string>();
        foreach (var part in text.Split(separator))
        {
            var stripped = part.Trim();
            if (stripped.Length > 0) result.Add(stripped);
        }
        return result;
    }

    /// <summary>Lines split on '\n' exactly, keeping empty lines, as the line modifiers see them.</summary>
    public static string[] RawLines(string text) => text.Split('\n');
}
