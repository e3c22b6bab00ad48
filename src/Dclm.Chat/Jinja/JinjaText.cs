using System.Text;

namespace Dclm.Chat.Jinja;

/// <summary>
/// A string value of a template, in pieces that remember whether they came from the template (markup,
/// whose special tokens are parsed) or from a message (content, encoded as plain text), so no string
/// operation can turn a user's text into markup.
/// </summary>
internal sealed class JinjaText
{
    public static readonly JinjaText Empty = new([]);

    public JinjaText(IReadOnlyList<PromptSegment> segments) => Segments = segments;

    public IReadOnlyList<PromptSegment> Segments { get; }

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
        return new(mapped);
    }

    /// <summary>A slice of the whole text; content if any piece of the original was content.</summary>
    public JinjaText Derived(string text) => HasContent ? Content(text) : Markup(text);

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
        return new(list);
    }

    public static void Append(List<PromptSegment> list, PromptSegment segment)
    {
        if (segment.Text.Length == 0) return;
        if (list.Count > 0 && list[^1].IsMarkup == segment.IsMarkup) list[^1] = list[^1] with { Text = list[^1].Text + segment.Text };
        else list.Add(segment);
    }

    public override string ToString() => Value;
}
