using System.Text;

namespace Dclm.Data.Extraction;

/// <summary>
/// Main-content text extraction from HTML (the role resiliparse plays in DCLM). Scripts, styles, forms, navigation
/// landmarks, boilerplate ids/classes (nav, menu, sidebar, footer, breadcrumb, toc, …) and link-dense lists, tables
/// and divs are dropped; when the page marks its main content (<c>main</c>, <c>article</c>, <c>role=main</c>,
/// MediaWiki's <c>#mw-content-text</c>, <c>#content</c>, Sphinx's <c>div.body</c>/<c>div.document</c>) only that
/// subtree is read. Block elements end lines, <c>br</c> breaks lines and <c>pre</c> keeps its own line structure;
/// other whitespace collapses to single spaces. Parsing uses <see cref="HtmlParser"/> into a reused
/// <see cref="HtmlTree"/>, so one instance per thread extracts page after page without building a DOM.
/// </summary>
public sealed class HtmlTextExtractor
{
    private static readonly byte Main = HtmlTags.Of("main"), Article = HtmlTags.Of("article"), Div = HtmlTags.Of("div"),
        Br = HtmlTags.Of("br"), Pre = HtmlTags.Of("pre"), A = HtmlTags.Of("a"), Td = HtmlTags.Of("td"), Th = HtmlTags.Of("th"),
        Ul = HtmlTags.Of("ul"), Ol = HtmlTags.Of("ol"), Table = HtmlTags.Of("table"), Dl = HtmlTags.Of("dl");

    private readonly HtmlParser _parser = new();
    private readonly HtmlTree _tree = new();
    private readonly StringBuilder _output = new();
    private char _last;            // the last character appended to _output ('\0' when empty)
    private int[] _letters = [];   // non-whitespace characters in each node's text content
    private int[] _linked = [];    // of which inside <a> elements

    /// <summary>Maximum share of a block's text that may sit inside links before the block counts as navigation.</summary>
    public double MaximumLinkDensity { get; init; } = 0.6;

    /// <summary>Extracts the main content of <paramref name="html"/> as lines of plain text.</summary>
    public string Extract(string html)
    {
        _parser.Parse(html, _tree);
        CountLetters();
        int root = MainRoot();
        _output.Clear();
        _last = '\0';
        Render(root);
        return Normalize(_output);
    }

    /// <summary>Per node, the non-whitespace characters of its text content and of the links in it (children come after parents).</summary>
    private void CountLetters()
    {
        int count = _tree.Count;
        if (_letters.Length < count)
        {
            _letters = new int[Math.Max(count, _letters.Length * 2)];
            _linked = new int[_letters.Length];
        }
        Array.Clear(_letters, 0, count);
        Array.Clear(_linked, 0, count);
        for (int node = count - 1; node > 0; node--)
        {
            if (_tree.IsText(node))
            {
                int letters = 0;
                foreach (char c in _tree.TextOf(node)) if (!char.IsWhiteSpace(c)) letters++;
                _letters[node] = letters;
            }
            int parent = _tree.Parent[node];
            _letters[parent] += _letters[node];
            _linked[parent] += _linked[node] + (_tree.Tag[node] == A ? _letters[node] : 0);
        }
    }

    /// <summary>The first element matching each main-content selector in turn, when it has text; else the body.</summary>
    private int MainRoot()
    {
        Func<int, bool>[] selectors =
        [
            n => _tree.Tag[n] == Main,
            n => _tree.Tag[n] == Article,
            n => (_tree.Mark[n] & HtmlTree.Marks.RoleMain) != 0,
            n => (_tree.Mark[n] & HtmlTree.Marks.MediaWikiContent) != 0,
            n => (_tree.Mark[n] & HtmlTree.Marks.IdContent) != 0,
            n => _tree.Tag[n] == Div && (_tree.Mark[n] & HtmlTree.Marks.ClassBody) != 0,
            n => _tree.Tag[n] == Div && (_tree.Mark[n] & HtmlTree.Marks.ClassDocument) != 0,
        ];
        foreach (var selector in selectors)
        {
            for (int node = 1; node < _tree.Count; node++)
            {
                if (_tree.IsText(node) || !selector(node)) continue;
                if (_letters[node] > 0) return node;
                break;
            }
        }
        return _tree.Body >= 0 ? _tree.Body : _tree.Html >= 0 ? _tree.Html : HtmlTree.Document;
    }

    private bool IsLinkDense(int node) => _letters[node] > 0 && (double)_linked[node] / _letters[node] > MaximumLinkDensity;

    /// <summary>Renders the children of <paramref name="root"/> (iteratively: pages nest thousands deep).</summary>
    private void Render(int root)
    {
        // A frame is a node to enter, or one whose closing output (cell space, block newline) is due.
        var stack = new Stack<(int Node, bool Leaving, bool InsidePre)>();
        PushChildren(stack, root, insidePre: false);
        while (stack.Count > 0)
        {
            var (node, leaving, insidePre) = stack.Pop();
            byte tag = _tree.Tag[node];
            if (leaving)
            {
                if (tag == Td || tag == Th) Append(' ');
                if (HtmlTags.Blocks[tag]) Append('\n');
                continue;
            }
            if (_tree.IsText(node))
            {
                var text = _tree.TextOf(node);
                if (!insidePre) AppendCollapsed(text);
                else if (!text.IsEmpty) { _output.Append(text); _last = text[^1]; }
                continue;
            }
            if (HtmlTags.Removed[tag] || (_tree.Mark[node] & HtmlTree.Marks.Boilerplate) != 0) continue;
            if (tag == Br) { Append('\n'); continue; }
            bool block = HtmlTags.Blocks[tag];
            if (block && (tag == Ul || tag == Ol || tag == Table || tag == Dl || tag == Div) && IsLinkDense(node)) continue;
            if (block) Append('\n');
            stack.Push((node, true, insidePre));
            PushChildren(stack, node, insidePre || tag == Pre);
        }
    }

    private void PushChildren(Stack<(int, bool, bool)> stack, int node, bool insidePre)
    {
        int count = 0;
        for (int child = _tree.FirstChild[node]; child >= 0; child = _tree.NextSibling[child]) count++;
        if (count == 0) return;
        Span<int> children = count <= 256 ? stackalloc int[count] : new int[count];
        int i = 0;
        for (int child = _tree.FirstChild[node]; child >= 0; child = _tree.NextSibling[child]) children[i++] = child;
        for (int c = count - 1; c >= 0; c--) stack.Push((children[c], false, insidePre));
    }

    private void Append(char c)
    {
        _output.Append(c);
        _last = c;
    }

    /// <summary>Appends text with each whitespace run as one space (none at the start of the output or after a space or newline).</summary>
    private void AppendCollapsed(ReadOnlySpan<char> data)
    {
        int i = 0;
        while (i < data.Length)
        {
            int run = 0;
            while (i + run < data.Length && !char.IsWhiteSpace(data[i + run])) run++;
            if (run > 0)
            {
                _output.Append(data.Slice(i, run));
                _last = data[i + run - 1];
                i += run;
            }
            if (i >= data.Length) break;
            while (i < data.Length && char.IsWhiteSpace(data[i])) i++;
            if (_last != '\0' && _last != ' ' && _last != '\n') Append(' ');
        }
    }

    /// <summary>Trims every line and drops blank ones.</summary>
    private static string Normalize(StringBuilder raw)
    {
        var text = raw.ToString();
        var result = new StringBuilder(text.Length);
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var trimmed = text.AsSpan(range).Trim();
            if (trimmed.Length == 0) continue;
            if (result.Length > 0) result.Append('\n');
            result.Append(trimmed);
        }
        return result.ToString();
    }
}
