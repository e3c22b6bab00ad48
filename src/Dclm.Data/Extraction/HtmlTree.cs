namespace Dclm.Data.Extraction;

/// <summary>
/// A parsed page as flat arrays (one slot per node, in document order), built by <see cref="HtmlParser"/> and reused
/// page after page: elements carry a tag id and the few attribute facts the extractor reads; text nodes carry a slice
/// of one shared, entity-decoded character buffer.
/// </summary>
internal sealed class HtmlTree
{
    /// <summary>Facts about an element's attributes, worked out once while parsing.</summary>
    [Flags]
    public enum Marks : byte
    {
        None = 0,
        /// <summary>role=navigation/banner/…, aria-hidden=true, hidden, or an id/class token like nav, footer, sidebar.</summary>
        Boilerplate = 1,
        /// <summary>role=main.</summary>
        RoleMain = 2,
        /// <summary>id=mw-content-text (MediaWiki).</summary>
        MediaWikiContent = 4,
        /// <summary>id=content.</summary>
        IdContent = 8,
        /// <summary>class contains "body" (Sphinx).</summary>
        ClassBody = 16,
        /// <summary>class contains "document" (Sphinx).</summary>
        ClassDocument = 32,
    }

    public const int Document = 0;
    public const byte TextTag = 255;

    public int Count;
    public int[] Parent = new int[1024];
    public int[] FirstChild = new int[1024];
    public int[] LastChild = new int[1024];
    public int[] NextSibling = new int[1024];
    public byte[] Tag = new byte[1024];
    public Marks[] Mark = new Marks[1024];
    public int[] TextStart = new int[1024];
    public int[] TextLength = new int[1024];
    /// <summary>Name of an element whose tag is <see cref="HtmlTags.Other"/> (its end tag must match it).</summary>
    public string?[] OtherName = new string?[1024];
    public char[] Text = new char[1 << 16];
    public int TextUsed;
    public int Html = -1, Head = -1, Body = -1;

    public void Reset()
    {
        Count = 0;
        TextUsed = 0;
        Html = Head = Body = -1;
        Add(-1, HtmlTags.Other, Marks.None, null);
    }

    public bool IsText(int node) => Tag[node] == TextTag;

    public ReadOnlySpan<char> TextOf(int node) => Text.AsSpan(TextStart[node], TextLength[node]);

    /// <summary>Appends a child of <paramref name="parent"/>; returns its index.</summary>
    public int Add(int parent, byte tag, Marks marks, string? otherName)
    {
        if (Count == Parent.Length) Grow();
        int node = Count++;
        Parent[node] = parent;
        FirstChild[node] = LastChild[node] = NextSibling[node] = -1;
        Tag[node] = tag;
        Mark[node] = marks;
        OtherName[node] = otherName;
        TextStart[node] = TextLength[node] = 0;
        if (parent >= 0)
        {
            if (LastChild[parent] < 0) FirstChild[parent] = node;
            else NextSibling[LastChild[parent]] = node;
            LastChild[parent] = node;
        }
        return node;
    }

    /// <summary>Appends text under <paramref name="parent"/>, extending its last child when that is the text just written.</summary>
    public void AddText(int parent, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return;
        int last = LastChild[parent];
        bool extend = last >= 0 && Tag[last] == TextTag && TextStart[last] + TextLength[last] == TextUsed;
        EnsureText(text.Length);
        text.CopyTo(Text.AsSpan(TextUsed));
        if (extend) TextLength[last] += text.Length;
        else
        {
            int node = Add(parent, TextTag, Marks.None, null);
            TextStart[node] = TextUsed;
            TextLength[node] = text.Length;
        }
        TextUsed += text.Length;
    }

    private void EnsureText(int more)
    {
        if (TextUsed + more > Text.Length) Array.Resize(ref Text, Math.Max(Text.Length * 2, TextUsed + more));
    }

    private void Grow()
    {
        int size = Parent.Length * 2;
        Array.Resize(ref Parent, size);
        Array.Resize(ref FirstChild, size);
        Array.Resize(ref LastChild, size);
        Array.Resize(ref NextSibling, size);
        Array.Resize(ref Tag, size);
        Array.Resize(ref Mark, size);
        Array.Resize(ref TextStart, size);
        Array.Resize(ref TextLength, size);
        Array.Resize(ref OtherName, size);
    }
}
