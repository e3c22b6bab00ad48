namespace Dclm.Data.Text;

/// <summary>
/// DCLM's <c>split_paragraphs(text, paragraph_end, remove_empty)</c>: <c>re.split</c> on "\n" (lines) or "\n\n"
/// (paragraphs), then, with <c>remove_empty</c>, every piece Python-stripped and empty ones dropped.
/// </summary>
public static class Paragraphs
{
    /// <summary>The pieces as (start, length) ranges of <paramref name="text"/> (stripped when <paramref name="removeEmpty"/>).</summary>
    public static void Split(ReadOnlySpan<char> text, string separator, bool removeEmpty, List<(int Start, int Length)> pieces)
    {
        pieces.Clear();
        int start = 0;
        while (true)
        {
            int found = text[start..].IndexOf(separator.AsSpan());
            int end = found < 0 ? text.Length : start + found;
            Add(text, start, end, removeEmpty, pieces);
            if (found < 0) break;
            start = end + separator.Length;
        }
    }

    private static void Add(ReadOnlySpan<char> text, int start, int end, bool removeEmpty, List<(int Start, int Length)> pieces)
    {
        if (!removeEmpty)
        {
            pieces.Add((start, end - start));
            return;
        }
        while (start < end && PythonText.IsSpace(text[start])) start++;
        while (end > start && PythonText.IsSpace(text[end - 1])) end--;
        if (end > start) pieces.Add((start, end - start));
    }

    /// <summary>The pieces as strings.</summary>
    public static List<string> Split(string text, string separator = "\n", bool removeEmpty = true)
    {
        var pieces = new List<(int Start, int Length)>();
        Split(text, separator, removeEmpty, pieces);
        return pieces.Select(p => text.Substring(p.Start, p.Length)).ToList();
    }
}
