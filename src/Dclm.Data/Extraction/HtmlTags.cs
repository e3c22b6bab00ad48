namespace Dclm.Data.Extraction;

/// <summary>Tag names the extractor and the tree builder treat specially, as small integers (everything else is <see cref="Other"/>).</summary>
internal static class HtmlTags
{
    public const byte Other = 0;
    private static readonly string[] Names =
    [
        "", "html", "head", "body", "title", "meta", "link", "base", "style", "script", "noscript", "template", "svg", "math",
        "canvas", "iframe", "object", "embed", "form", "button", "select", "option", "optgroup", "input", "textarea", "nav",
        "header", "footer", "aside", "menu", "main", "article", "section", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6",
        "li", "ul", "ol", "dl", "dt", "dd", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "blockquote",
        "pre", "listing", "figure", "figcaption", "address", "hr", "center", "details", "summary", "br", "a", "img", "area",
        "col", "colgroup", "param", "source", "track", "wbr", "keygen", "xmp", "noembed", "noframes", "plaintext", "dialog",
        "dir", "fieldset", "hgroup", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
    ];

    private static readonly Dictionary<string, byte> Ids = Names.Select((n, i) => (n, (byte)i)).Skip(1).ToDictionary(p => p.n, p => p.Item2);
    private static readonly Dictionary<string, byte>.AlternateLookup<ReadOnlySpan<char>> Lookup = Ids.GetAlternateLookup<ReadOnlySpan<char>>();

    public static byte Id(ReadOnlySpan<char> lowercaseName) => Lookup.TryGetValue(lowercaseName, out byte id) ? id : Other;

    public static byte Of(string name) => Ids[name];

    public static string Name(byte id) => Names[id];

    private static bool[] Set(params string[] names)
    {
        var set = new bool[256];
        foreach (var n in names) set[Ids[n]] = true;
        return set;
    }

    /// <summary>Subtrees the extractor skips entirely.</summary>
    public static readonly bool[] Removed = Set("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "form",
        "button", "select", "input", "textarea", "nav", "header", "footer", "aside", "menu", "head", "title", "meta", "link");

    /// <summary>Elements that start and end a line.</summary>
    public static readonly bool[] Blocks = Set("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
        "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure", "figcaption", "address", "hr", "body", "center", "caption",
        "details", "summary", "tbody", "thead", "tfoot");

    /// <summary>Elements without content.</summary>
    public static readonly bool[] Void = Set("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr", "keygen");

    /// <summary>Elements whose content is raw text up to their end tag.</summary>
    public static readonly bool[] RawText = Set("script", "style", "xmp", "iframe", "noembed", "noframes");

    /// <summary>Start tags that close an open &lt;p&gt; (HTML5 "close a p element").</summary>
    public static readonly bool[] ClosesParagraph = Set("address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
        "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "main",
        "menu", "nav", "ol", "p", "pre", "listing", "section", "summary", "table", "ul", "li", "dd", "dt", "plaintext", "xmp");

    /// <summary>HTML5's "special" elements: an end tag for an ordinary element is not searched for past them.</summary>
    public static readonly bool[] Special = Set("address", "area", "article", "aside", "base", "blockquote", "body", "br", "button", "caption",
        "center", "col", "colgroup", "dd", "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "iframe", "img", "input", "keygen", "li", "link",
        "listing", "main", "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p", "param", "plaintext", "pre",
        "script", "section", "select", "source", "style", "summary", "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead",
        "title", "tr", "track", "ul", "wbr", "xmp");

    /// <summary>Formatting elements, whose end tags close them even across blocks (a simplification of the adoption agency).</summary>
    public static readonly bool[] Formatting = Set("a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u");

    /// <summary>Elements that may appear in &lt;head&gt; before the body starts.</summary>
    public static readonly bool[] HeadContent = Set("title", "meta", "link", "base", "style", "script", "noscript", "template");

    public static bool IsHeading(byte tag) => tag >= Ids["h1"] && tag <= Ids["h6"];
}
