using System.Text;
using Dclm.Data.Text;

namespace Dclm.Data.Modifiers;

/// <summary>
/// The shape every DCLM line modifier shares: <c>text.split('\n')</c>, keep (or rewrite) each line,
/// <c>'\n'.join(...)</c>, optionally Python's <c>strip()</c>; an empty result drops the page.
/// </summary>
internal static class LineEdit
{
    /// <summary>A line's fate: kept as is, removed, or replaced by new text.</summary>
    public delegate bool Rewrite(ReadOnlySpan<char> line, out string? replacement);

    /// <summary>The joined (and optionally stripped) kept lines; the original string when nothing changed and nothing is stripped.</summary>
    public static string Apply(string text, Func<ReadOnlySpan<char>, bool> keep, bool strip)
    {
        var span = text.AsSpan();
        StringBuilder? builder = null;
        int start = 0, kept = 0;
        bool changed = false;
        while (true)
        {
            int newline = span[start..].IndexOf('\n');
            int end = newline < 0 ? span.Length : start + newline;
            var line = span[start..end];
            if (keep(line))
            {
                if (changed)
                {
                    if (kept > 0) builder!.Append('\n');
                    builder!.Append(line);
                }
                kept++;
            }
            else if (!changed)
            {
                changed = true;
                builder = new StringBuilder(text.Length);
                // Lines before this one were all kept: copy them at once (without the trailing newline).
                if (start > 0) builder.Append(span[..(start - 1)]);
            }
            if (newline < 0) break;
            start = end + 1;
        }
        string joined = changed ? builder!.ToString() : text;
        return strip ? PythonText.Strip(joined) : joined;
    }

    /// <summary>Like <see cref="Apply(string, Func{ReadOnlySpan{char}, bool}, bool)"/>, with lines that may be rewritten.</summary>
    public static string Apply(string text, Rewrite rewrite, bool strip)
    {
        var builder = new StringBuilder(text.Length);
        bool first = true;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range);
            if (!rewrite(line, out var replacement)) continue;
            if (!first) builder.Append('\n');
            if (replacement is null) builder.Append(line);
            else builder.Append(replacement);
            first = false;
        }
        var joined = builder.ToString();
        return strip ? PythonText.Strip(joined) : joined;
    }
}
