using System.Text;

namespace Dclm.Data.Dedup;

/// <summary>
/// BFF's paragraphs as DCLM's <c>process_line_oldboth</c> cuts them: windows between 0, every '\n' and the end, so
/// every paragraph but the first starts with its newline. Removing a paragraph removes its window; the rest is
/// concatenated as it was, without trimming (a removed first paragraph leaves the next one's leading newline).
/// </summary>
public static class BffParagraphs
{
    /// <summary>The (start, end) windows of <paramref name="text"/>.</summary>
    public static void Windows(string text, List<(int Start, int End)> windows)
    {
        windows.Clear();
        int start = 0;
        for (int i = text.IndexOf('\n'); i >= 0; i = text.IndexOf('\n', i + 1))
        {
            windows.Add((start, i));
            start = i;
        }
        windows.Add((start, text.Length));
    }

    /// <summary>The text of the kept windows, concatenated.</summary>
    public static string Join(string text, List<(int Start, int End)> windows, IReadOnlyList<bool> keep)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < windows.Count; i++)
        {
            if (keep[i]) builder.Append(text, windows[i].Start, windows[i].End - windows[i].Start);
        }
        return builder.ToString();
    }
}
