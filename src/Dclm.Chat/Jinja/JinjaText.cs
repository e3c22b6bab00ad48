using System.Text;

namespace Dclm.Chat.Jinja;

/// <summary>
/// A string value of a template, in pieces that remember whether they came from the template (markup,
/// whose special tokens are parsed) or from a message (content, encoded as plain text), so no string
/// operation can turn a user's text into markup. A text may also be HTML-safe, as Jinja2's <c>Markup</c> is (what the
/// <c>safe</c> and <c>escape</c> filters return): adding plain text to it escapes that text, whatever the autoescape setting.
/// Lengths, indices and slices count code points, as Python's strings do.
/// </summary>
internal sealed class JinjaText
{
    public static readonly JinjaText Empty = new([]);

    public JinjaText(IReadOnlyList<PromptSegment> segments, bool isSafe = false) => (Segments, IsSafe) = (segments, isSafe);

    public IReadOnlyList<PromptSegment> Segments { get; }

    /// <summary>Jinja2's Markup: text already HTML-escaped (or declared safe), which escapes what is added to it.</summary>
    public bool IsSafe { get; }

    /// <summary>The same text declared safe (the <c>safe</c> filter).</summary>
    public JinjaText AsSafe() => IsSafe ? this : new(Segments, true);

    /// <summary>Jinja2's <c>escape</c>: &amp; &lt; &gt; " ' replaced by entities, the result safe; safe text stays as it is.</summary>
    public JinjaText Escape() => IsSafe ? this
        : new(Map(s => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;")).Segments, true);

    /// <summary>Python's <c>a + b</c> of two strings: with Markup on either side the other side is escaped and the sum is Markup.</summary>
    public static JinjaText Add(JinjaText a, JinjaText b)
    {
        if (!a.IsSafe && !b.IsSafe) return Concat(a, b);
        return new(Concat(a.Escape(), b.Escape()).Segments, true);
    }

    /// <summary>Python's len: code points, so a character beyond the BMP (an emoji) counts once.</summary>
    public int CodePointCount => CodePoints(Value);

    /// <summary>The code points in <paramref name="text"/>: its length as Python counts it.</summary>
    public static int CodePoints(string text)
    {
        int surrogates = 0;
        foreach (char c in text) if (char.IsLowSurrogate(c)) surrogates++;
        return text.Length - surrogates;
    }

    /// <summary>The text's characters as Python sees them: one string per code point.</summary>
    public List<string> Characters()
    {
        string text = Value;
        var characters = new List<string>(text.Length);
        for (int i = 0; i < text.Length; i++)
            characters.Add(char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? text.Substring(i++, 2) : text[i].ToString());
        return characters;
    }

    public static JinjaText Markup(string text) => new(text.Length == 0 ? [] : [new PromptSegment(text, true)]);

    public static JinjaText Content(string text) => new(text.Length == 0 ? [] : [new PromptSegment(text, false)]);

    public bool HasContent => Segments.Any(s => !s.IsMarkup);

    public string Value => Segments.Count == 1 ? Segments[0].Text : string.Concat(Segments.Select(s => s.Text));

    public int Length => Segments.Sum(s => s.Text.Length);

    /// <summary>Longest string a template may build: a chat prompt is far shorter, a runaway template is stopped.</summary>
    public const int MaxLength = 4 << 20;

    /// <summary>Characters all string building of one render may copy, so a quadratic template stops in well under a second.</summary>
    public const long CopyBudget = 64L << 20;

    // Characters copied by the render running on this thread (reset by each render).
    [ThreadStatic] private static long t_copied;

    public static void ResetBudget() => t_copied = 0;

    /// <summary>Counts <paramref name="characters"/> built outside <see cref="Concat"/> (padding, JSON, repr, mapped pieces) against the copy budget.</summary>
    public static void Charge(long characters)
    {
        if (characters > MaxLength) throw new JinjaException($"the template built a string over {MaxLength} characters");
        if ((t_copied += characters) > CopyBudget) throw new JinjaException($"the template copied over {CopyBudget} characters building strings");
    }

    public static JinjaText Concat(JinjaText a, JinjaText b)
    {
        if (a.Segments.Count == 0) return b;
        if (b.Segments.Count == 0) return a;
        long length = (long)a.Length + b.Length;
        if (length > MaxLength) throw new JinjaException($"the template built a string over {MaxLength} characters");
        if ((t_copied += length) > CopyBudget) throw new JinjaException($"the template copied over {CopyBudget} characters building strings");
        var list = new List<PromptSegment>(a.Segments);
        foreach (var segment in b.Segments) Append(list, segment);
        return new(list);
    }

    /// <summary>Each piece mapped by <paramref name="map"/> (upper, lower, replace).</summary>
    public JinjaText Map(Func<string, string> map)
    {
        var mapped = Segments.Select(s => s with { Text = map(s.Text) }).Where(s => s.Text.Length > 0).ToList();
        Charge(mapped.Sum(s => (long)s.Text.Length));
        return new(mapped, IsSafe);
    }

    /// <summary>A slice of the whole text; content if any piece of the original was content, safe if the original was.</summary>
    public JinjaText Derived(string text) => new((HasContent ? Content(text) : Markup(text)).Segments, IsSafe);

    /// <summary>Leading and/or trailing characters in <paramref name="characters"/> (whitespace when null) removed across pieces.</summary>
    public JinjaText Trim(bool start, bool end, string? characters)
    {
        bool Strip(char c) => characters is null ? char.IsWhiteSpace(c) : characters.Contains(c);
        var list = Segments.ToList();
        if (start)
            while (list.Count > 0)
            {
                string text = list[0].Text;
                int i = 0;
                while (i < text.Length && Strip(text[i])) i++;
                if (i < text.Length) { list[0] = list[0] with { Text = text[i..] }; break; }
                list.RemoveAt(0);
            }
        if (end)
            while (list.Count > 0)
            {
                string text = list[^1].Text;
                int i = text.Length;
                while (i > 0 && Strip(text[i - 1])) i--;
                if (i > 0) { list[^1] = list[^1] with { Text = text[..i] }; break; }
                list.RemoveAt(list.Count - 1);
            }
        return new(list, IsSafe);
    }

    public static void Append(List<PromptSegment> list, PromptSegment segment)
    {
        if (segment.Text.Length == 0) return;
        if (list.Count > 0 && list[^1].IsMarkup == segment.IsMarkup) list[^1] = list[^1] with { Text = list[^1].Text + segment.Text };
        else list.Add(segment);
    }

    public override string ToString() => Value;
}
