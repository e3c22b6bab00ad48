using System.Buffers;

namespace Dclm.Data.Extraction;

/// <summary>
/// A fast HTML parser for text extraction: HTML5's tokenizer (tags, attributes, comments, doctypes, raw-text and
/// RCDATA elements, character references) and the parts of its tree construction that decide which text sits in
/// which element (implied &lt;html&gt;/&lt;head&gt;/&lt;body&gt;, void elements, &lt;p&gt;, &lt;li&gt;, &lt;dt&gt;/&lt;dd&gt;,
/// heading, option and table cells closing each other, end tags matched within HTML5's scopes). The adoption agency
/// for misnested formatting and foster parenting out of tables are simplified (a formatting end tag closes what is
/// open inside it; stray table text stays where it is), which moves a few line breaks on malformed pages. The
/// extraction tests compare it with AngleSharp's complete parser.
/// </summary>
internal sealed class HtmlParser
{
    private static readonly SearchValues<char> TagOrReference = SearchValues.Create("<&\r\0");
    private static readonly SearchValues<char> TagEnd = SearchValues.Create("\t\n\f\r />");
    private static readonly SearchValues<char> Space = SearchValues.Create("\t\n\f\r ");
    private static readonly string[] BoilerplateMarkers =
    [
        "nav", "navbar", "menu", "sidebar", "footer", "header", "breadcrumb", "cookie", "banner", "toc", "catlinks",
        "printfooter", "related", "share", "social", "sphinxsidebar", "mw-head", "mw-panel", "mw-navigation",
        "jump", "skip", "editsection", "advert", "subscribe", "login",
    ];
    private static readonly byte P = HtmlTags.Of("p"), Li = HtmlTags.Of("li"), Dd = HtmlTags.Of("dd"), Dt = HtmlTags.Of("dt"),
        A = HtmlTags.Of("a"), Option = HtmlTags.Of("option"), Optgroup = HtmlTags.Of("optgroup"), Tr = HtmlTags.Of("tr"),
        Td = HtmlTags.Of("td"), Th = HtmlTags.Of("th"), Tbody = HtmlTags.Of("tbody"), Thead = HtmlTags.Of("thead"), Tfoot = HtmlTags.Of("tfoot"),
        Table = HtmlTags.Of("table"), Caption = HtmlTags.Of("caption"), Html = HtmlTags.Of("html"), Head = HtmlTags.Of("head"),
        Body = HtmlTags.Of("body"), Br = HtmlTags.Of("br"), Pre = HtmlTags.Of("pre"), Listing = HtmlTags.Of("listing"),
        Textarea = HtmlTags.Of("textarea"), Title = HtmlTags.Of("title"), Plaintext = HtmlTags.Of("plaintext"), Svg = HtmlTags.Of("svg"),
        MathTag = HtmlTags.Of("math"), Button = HtmlTags.Of("button"), ObjectTag = HtmlTags.Of("object"), Template = HtmlTags.Of("template"),
        Address = HtmlTags.Of("address"), Div = HtmlTags.Of("div");

    private readonly List<int> _stack = new();
    private readonly System.Text.StringBuilder _scratch = new();
    private HtmlTree _tree = null!;
    private string _html = "";
    private bool _bodyStarted;
    private int _foreignDepth;

    /// <summary>Parses <paramref name="html"/> into <paramref name="tree"/> (which is reset first).</summary>
    public void Parse(string html, HtmlTree tree)
    {
        _tree = tree;
        _html = html;
        _stack.Clear();
        _bodyStarted = false;
        _foreignDepth = 0;
        tree.Reset();
        int i = 0;
        while (i < html.Length)
        {
            int special = html.AsSpan(i).IndexOfAny(TagOrReference);
            if (special < 0)
            {
                Text(html.AsSpan(i));
                break;
            }
            if (special > 0) Text(html.AsSpan(i, special));
            i += special;
            switch (html[i])
            {
                case '\r':
                    Text("\n");
                    i += i + 1 < html.Length && html[i + 1] == '\n' ? 2 : 1;
                    break;
                case '\0':
                    i++; // HTML5 drops NUL characters in body text
                    break;
                case '&':
                    i = Reference(i, attribute: false, _scratch.Clear());
                    Text(_scratch.ToString());
                    break;
                default:
                    i = Markup(i);
                    break;
            }
        }
    }

    private int Current => _stack.Count > 0 ? _stack[^1] : HtmlTree.Document;

    private byte CurrentTag => _tree.Tag[Current];

    private void Text(ReadOnlySpan<char> text)
    {
        if (!_bodyStarted)
        {
            if (text.IndexOfAnyExcept(Space) < 0) return; // whitespace before the body is not content
            StartBody();
        }
        _tree.AddText(Current, text);
    }

    /// <summary>Handles '&lt;' at <paramref name="i"/>; returns where to continue.</summary>
    private int Markup(int i)
    {
        var html = _html;
        if (i + 1 >= html.Length) { Text("<"); return i + 1; }
        char next = html[i + 1];
        if (char.IsAsciiLetter(next)) return StartTag(i + 1);
        if (next == '/')
        {
            if (i + 2 < html.Length && char.IsAsciiLetter(html[i + 2])) return EndTag(i + 2);
            if (i + 2 < html.Length && html[i + 2] == '>') return i + 3;
            return SkipPast(i + 2, '>');
        }
        if (next == '!')
        {
            if (string.CompareOrdinal(html, i + 2, "--", 0, 2) == 0) return Comment(i + 4);
            if (_foreignDepth > 0 && string.CompareOrdinal(html, i + 2, "[CDATA[", 0, 7) == 0)
            {
                int end = html.IndexOf("]]>", i + 9, StringComparison.Ordinal);
                Text(html.AsSpan(i + 9, (end < 0 ? html.Length : end) - (i + 9)));
                return end < 0 ? html.Length : end + 3;
            }
            return SkipPast(i + 2, '>'); // doctype or bogus comment
        }
        if (next == '?') return SkipPast(i + 1, '>');
        Text("<");
        return i + 1;
    }

    private int SkipPast(int i, char c)
    {
        int end = _html.IndexOf(c, i);
        return end < 0 ? _html.Length : end + 1;
    }

    private int Comment(int i)
    {
        var html = _html;
        if (i < html.Length && html[i] == '>') return i + 1;                                  // <!-->
        if (i + 1 < html.Length && html[i] == '-' && html[i + 1] == '>') return i + 2;       // <!--->
        int end = html.IndexOf("--", i, StringComparison.Ordinal);
        while (end >= 0)
        {
            if (end + 2 < html.Length && html[end + 2] == '>') return end + 3;
            if (end + 3 < html.Length && html[end + 2] == '!' && html[end + 3] == '>') return end + 4;
            end = html.IndexOf("--", end + 1, StringComparison.Ordinal);
        }
        return html.Length;
    }

    private (int End, byte Tag, string? Other) TagName(int i)
    {
        var html = _html;
        int end = html.AsSpan(i).IndexOfAny(TagEnd);
        end = end < 0 ? html.Length : i + end;
        var name = html.AsSpan(i, end - i);
        if (name.Length > 32) return (end, HtmlTags.Other, name.ToString().ToLowerInvariant());
        Span<char> lower = stackalloc char[name.Length];
        name.ToLowerInvariant(lower);
        byte tag = HtmlTags.Id(lower);
        return (end, tag, tag == HtmlTags.Other ? lower.ToString() : null);
    }

    private int StartTag(int i)
    {
        var (end, tag, other) = TagName(i);
        var marks = HtmlTree.Marks.None;
        bool selfClosing = false;
        int position = Attributes(end, ref marks, ref selfClosing);
        if (position < 0) return _html.Length; // EOF inside a tag: HTML5 emits nothing
        Start(tag, other, marks, selfClosing);
        if (tag == Pre || tag == Listing || tag == Textarea)
        {
            // A newline right after <pre>, <listing> and <textarea> is not content.
            if (position < _html.Length && _html[position] == '\n') position++;
            else if (position + 1 < _html.Length && _html[position] == '\r' && _html[position + 1] == '\n') position += 2;
        }
        if (HtmlTags.RawText[tag] || tag == Title || tag == Textarea) return RawContent(position, tag, decode: tag == Title || tag == Textarea);
        if (tag == Plaintext) { Text(_html.AsSpan(position)); return _html.Length; }
        return position;
    }

    /// <summary>Reads attributes up to '&gt;' and notes the ones the extractor uses; returns the index after '&gt;' or -1 at EOF.</summary>
    private int Attributes(int i, ref HtmlTree.Marks marks, ref bool selfClosing)
    {
        var html = _html;
        string? id = null, @class = null;
        while (true)
        {
            while (i < html.Length && (Space.Contains(html[i]) || html[i] == '/'))
            {
                selfClosing = html[i] == '/';
                i++;
            }
            if (i >= html.Length) return -1;
            if (html[i] == '>') break;
            selfClosing = false;
            int nameStart = i++;
            while (i < html.Length && !Space.Contains(html[i]) && html[i] is not ('/' or '>' or '=')) i++;
            var name = html.AsSpan(nameStart, i - nameStart);
            bool interesting = Interesting(name);
            while (i < html.Length && Space.Contains(html[i])) i++;
            string? value = null;
            if (i < html.Length && html[i] == '=')
            {
                i++;
                while (i < html.Length && Space.Contains(html[i])) i++;
                if (i >= html.Length) return -1;
                int valueStart, valueEnd;
                if (html[i] is '"' or '\'')
                {
                    char quote = html[i];
                    valueStart = i + 1;
                    valueEnd = html.IndexOf(quote, valueStart);
                    if (valueEnd < 0) return -1;
                    i = valueEnd + 1;
                }
                else
                {
                    valueStart = i;
                    while (i < html.Length && !Space.Contains(html[i]) && html[i] != '>') i++;
                    valueEnd = i;
                }
                if (interesting) value = AttributeValue(valueStart, valueEnd);
            }
            if (!interesting) continue;
            switch (name.Length)
            {
                case 2: id ??= value ?? ""; break;
                case 5: @class ??= value ?? ""; break;
                case 4:
                    if (value is "navigation" or "banner" or "contentinfo" or "search" or "complementary") marks |= HtmlTree.Marks.Boilerplate;
                    if (value == "main") marks |= HtmlTree.Marks.RoleMain;
                    break;
                case 11: if (value == "true") marks |= HtmlTree.Marks.Boilerplate; break;  // aria-hidden
                case 6: marks |= HtmlTree.Marks.Boilerplate; break;                         // hidden
            }
        }
        if (id == "mw-content-text") marks |= HtmlTree.Marks.MediaWikiContent;
        if (id == "content") marks |= HtmlTree.Marks.IdContent;
        if (@class is not null)
        {
            foreach (var range in @class.AsSpan().SplitAny(Space))
            {
                var token = @class.AsSpan(range);
                if (token.SequenceEqual("body")) marks |= HtmlTree.Marks.ClassBody;
                if (token.SequenceEqual("document")) marks |= HtmlTree.Marks.ClassDocument;
            }
        }
        if (IsBoilerplateMarker(id, @class)) marks |= HtmlTree.Marks.Boilerplate;
        return i + 1;
    }

    /// <summary>id, class, role, hidden or aria-hidden (the attributes the extractor reads), by length first.</summary>
    private static bool Interesting(ReadOnlySpan<char> name) => name.Length switch
    {
        2 => name.Equals("id", StringComparison.OrdinalIgnoreCase),
        4 => name.Equals("role", StringComparison.OrdinalIgnoreCase),
        5 => name.Equals("class", StringComparison.OrdinalIgnoreCase),
        6 => name.Equals("hidden", StringComparison.OrdinalIgnoreCase),
        11 => name.Equals("aria-hidden", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private string AttributeValue(int start, int end)
    {
        var raw = _html.AsSpan(start, end - start);
        if (raw.IndexOfAny('&', '\r') < 0) return raw.ToString();
        var builder = new System.Text.StringBuilder(raw.Length);
        for (int i = start; i < end;)
        {
            if (_html[i] == '&') { i = Reference(i, attribute: true, builder, end); continue; }
            builder.Append(_html[i] == '\r' ? '\n' : _html[i]);
            i++;
        }
        return builder.ToString();
    }

    /// <summary>
    /// The id/class rule on <c>(id + " " + class).ToLowerInvariant()</c>: a token (split on ' ' and '_') equal to a
    /// marker, or starting "marker-" or ending "-marker". Checked on id and class separately, without copies.
    /// </summary>
    private static bool IsBoilerplateMarker(string? id, string? @class) =>
        (id is not null && HasMarkerToken(id)) || (@class is not null && HasMarkerToken(@class));

    private static bool HasMarkerToken(string value)
    {
        foreach (var range in value.AsSpan().SplitAny(' ', '_'))
        {
            var token = value.AsSpan(range);
            if (token.Length < 3) continue;
            foreach (var word in BoilerplateMarkers)
            {
                if (token.Length < word.Length) continue;
                if (token.Length == word.Length ? token.Equals(word, StringComparison.OrdinalIgnoreCase)
                    : (token[word.Length] == '-' && token[..word.Length].Equals(word, StringComparison.OrdinalIgnoreCase))
                      || (token[^(word.Length + 1)] == '-' && token[^word.Length..].Equals(word, StringComparison.OrdinalIgnoreCase))) return true;
            }
        }
        return false;
    }

    /// <summary>Text of a raw-text or RCDATA element up to its end tag.</summary>
    private int RawContent(int i, byte tag, bool decode)
    {
        var html = _html;
        var name = HtmlTags.Name(tag);
        int end = i;
        while (true)
        {
            end = html.IndexOf("</", end, StringComparison.Ordinal);
            if (end < 0) { end = html.Length; break; }
            int after = end + 2 + name.Length;
            if (after <= html.Length && html.AsSpan(end + 2, name.Length).Equals(name, StringComparison.OrdinalIgnoreCase)
                && (after == html.Length || TagEnd.Contains(html[after]))) break;
            end += 2;
        }
        int parent = Current;
        if (!decode) _tree.AddText(parent, html.AsSpan(i, end - i));
        else
        {
            _scratch.Clear();
            for (int k = i; k < end;)
            {
                if (html[k] == '&') { k = Reference(k, attribute: false, _scratch, end); continue; }
                _scratch.Append(html[k] == '\r' ? '\n' : html[k]);
                k++;
            }
            _tree.AddText(parent, _scratch.ToString());
        }
        if (end >= html.Length) return html.Length;
        return EndTag(end + 2);
    }

    private int EndTag(int i)
    {
        var (end, tag, other) = TagName(i);
        int close = _html.IndexOf('>', end);
        if (close < 0) return _html.Length; // EOF inside a tag: HTML5 emits nothing
        End(tag, other);
        return close + 1;
    }

    private void StartBody()
    {
        EnsureHtml();
        while (_stack.Count > 1) _stack.RemoveAt(_stack.Count - 1);
        _tree.Body = _tree.Add(_tree.Html, Body, HtmlTree.Marks.None, null);
        _stack.Add(_tree.Body);
        _bodyStarted = true;
    }

    private void EnsureHtml()
    {
        if (_tree.Html >= 0) return;
        _tree.Html = _tree.Add(HtmlTree.Document, Html, HtmlTree.Marks.None, null);
        _stack.Clear();
        _stack.Add(_tree.Html);
    }

    private void Start(byte tag, string? other, HtmlTree.Marks marks, bool selfClosing)
    {
        if (tag == Html) { EnsureHtml(); return; }
        if (tag == Body)
        {
            if (_tree.Body < 0) { StartBody(); _tree.Mark[_tree.Body] = marks; }
            return;
        }
        if (tag == Head)
        {
            if (!_bodyStarted && _tree.Head < 0)
            {
                EnsureHtml();
                _tree.Head = _tree.Add(_tree.Html, Head, marks, null);
                _stack.Add(_tree.Head);
            }
            return;
        }
        if (!_bodyStarted)
        {
            if (HtmlTags.HeadContent[tag])
            {
                EnsureHtml();
                if (_tree.Head < 0) _tree.Head = _tree.Add(_tree.Html, Head, HtmlTree.Marks.None, null);
                Insert(_tree.Head, tag, other, marks, selfClosing);
                return;
            }
            StartBody();
        }
        if (HtmlTags.ClosesParagraph[tag] && InScope(P, ButtonScope)) PopThrough(P);
        if (HtmlTags.IsHeading(tag) && HtmlTags.IsHeading(CurrentTag)) Pop();
        else if (tag == Li) CloseListItem(t => t == Li);
        else if (tag == Dd || tag == Dt) CloseListItem(t => t == Dd || t == Dt);
        else if (tag == A) { if (FindOpen(A, TableScope) >= 0) PopThrough(A); }
        else if (tag == Option) { if (CurrentTag == Option) Pop(); }
        else if (tag == Optgroup) { if (CurrentTag == Option) Pop(); if (CurrentTag == Optgroup) Pop(); }
        else if (tag == Tr) { if (FindOpen(Tr, TableScope) >= 0) PopThrough(Tr); }
        else if (tag == Td || tag == Th) { int cell = FindOpen(t => t == Td || t == Th, TableScope); if (cell >= 0) PopTo(cell); }
        else if (tag == Tbody || tag == Thead || tag == Tfoot) { int section = FindOpen(t => t == Tbody || t == Thead || t == Tfoot, TableScope); if (section >= 0) PopTo(section); }
        Insert(Current, tag, other, marks, selfClosing);
    }

    private void Insert(int parent, byte tag, string? other, HtmlTree.Marks marks, bool selfClosing)
    {
        int node = _tree.Add(parent, tag, marks, other);
        if (HtmlTags.Void[tag]) return;
        if (selfClosing && _foreignDepth > 0) return; // only foreign (SVG, MathML) elements self-close
        if (tag == Svg || tag == MathTag) _foreignDepth++;
        if (parent == Current) _stack.Add(node);
        else if (!HtmlTags.RawText[tag] && tag != Title && tag != Textarea) return;
        else _stack.Add(node); // head content with text: its raw text goes in it, then its end tag pops it
    }

    private void End(byte tag, string? other)
    {
        if (tag == Html || tag == Body) return;
        if (tag == Br) { Start(Br, null, HtmlTree.Marks.None, false); return; }
        if (tag == Head)
        {
            int head = _stack.IndexOf(_tree.Head >= 0 ? _tree.Head : -2);
            if (head >= 0) PopTo(head);
            return;
        }
        if (tag == P) { if (InScope(P, ButtonScope)) PopThrough(P); return; }
        if (tag == Li) { if (InScope(Li, ListScope)) PopThrough(Li); return; }
        if (HtmlTags.IsHeading(tag)) { int heading = FindOpen(HtmlTags.IsHeading, DefaultScope); if (heading >= 0) PopTo(heading); return; }
        for (int s = _stack.Count - 1; s >= 0; s--)
        {
            int node = _stack[s];
            byte open = _tree.Tag[node];
            if (open == tag && (tag != HtmlTags.Other || _tree.OtherName[node] == other))
            {
                PopTo(s);
                return;
            }
            if (HtmlTags.Formatting[tag]) { if (DefaultScope(open)) return; continue; }
            if (HtmlTags.Special[tag] ? DefaultScope(open) : HtmlTags.Special[open]) return;
        }
    }

    private static bool DefaultScope(byte tag) =>
        tag == Html || tag == Table || tag == Td || tag == Th || tag == Caption || tag == ObjectTag || tag == Template;

    private static bool ButtonScope(byte tag) => DefaultScope(tag) || tag == Button;

    private static bool ListScope(byte tag) => DefaultScope(tag) || tag == HtmlTags.Of("ol") || tag == HtmlTags.Of("ul");

    private static bool TableScope(byte tag) => tag == Html || tag == Table || tag == Template;

    private bool InScope(byte tag, Func<byte, bool> boundary) => FindOpen(t => t == tag, boundary) >= 0;

    private int FindOpen(byte tag, Func<byte, bool> boundary) => FindOpen(t => t == tag, boundary);

    /// <summary>Stack position of the nearest open element matching <paramref name="match"/> before a scope boundary, or -1.</summary>
    private int FindOpen(Func<byte, bool> match, Func<byte, bool> boundary)
    {
        for (int s = _stack.Count - 1; s >= 0; s--)
        {
            byte tag = _tree.Tag[_stack[s]];
            if (match(tag)) return s;
            if (boundary(tag)) return -1;
        }
        return -1;
    }

    private void CloseListItem(Func<byte, bool> item)
    {
        for (int s = _stack.Count - 1; s >= 0; s--)
        {
            byte tag = _tree.Tag[_stack[s]];
            if (item(tag)) { PopTo(s); return; }
            if (HtmlTags.Special[tag] && tag != Address && tag != Div && tag != P) return;
        }
    }

    private void PopThrough(byte tag)
    {
        int s = FindOpen(t => t == tag, _ => false);
        if (s >= 0) PopTo(s);
    }

    private void PopTo(int stackIndex)
    {
        while (_stack.Count > stackIndex) Pop();
    }

    private void Pop()
    {
        if (_stack.Count <= 1) return; // <html> stays open
        byte tag = _tree.Tag[_stack[^1]];
        if ((tag == Svg || tag == MathTag) && _foreignDepth > 0) _foreignDepth--;
        _stack.RemoveAt(_stack.Count - 1);
    }

    /// <summary>Decodes a character reference at <paramref name="i"/> ('&amp;') into <paramref name="output"/>; returns the index after it.</summary>
    private int Reference(int i, bool attribute, System.Text.StringBuilder output, int limit = -1)
    {
        var html = _html;
        if (limit < 0) limit = html.Length;
        int start = i + 1;
        if (start < limit && html[start] == '#') return NumericReference(start + 1, output, limit);
        int end = start;
        while (end < limit && end - start < 40 && char.IsAsciiLetterOrDigit(html[end])) end++;
        if (end == start) { output.Append('&'); return start; }
        var resolver = AngleSharp.Html.HtmlEntityProvider.Resolver;
        if (end < limit && html[end] == ';')
        {
            var symbol = resolver.GetSymbol(html.Substring(start, end - start + 1));
            if (!string.IsNullOrEmpty(symbol)) { output.Append(symbol); return end + 1; }
        }
        // Legacy references without ';' (&amp, &copy): the longest known prefix.
        for (int length = Math.Min(end - start, 6); length >= 2; length--)
        {
            var symbol = resolver.GetSymbol(html.Substring(start, length));
            if (string.IsNullOrEmpty(symbol)) continue;
            int after = start + length;
            // In attribute values "&copy=" and "&copyx" stay as written.
            if (attribute && after < limit && (char.IsAsciiLetterOrDigit(html[after]) || html[after] == '=')) break;
            output.Append(symbol);
            return after;
        }
        output.Append('&');
        return start;
    }

    private static readonly char[] Windows1252 =
    [
        '\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021', '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
        '\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014', '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
    ];

    private int NumericReference(int i, System.Text.StringBuilder output, int limit)
    {
        var html = _html;
        bool hex = i < limit && html[i] is 'x' or 'X';
        int digits = hex ? i + 1 : i;
        int end = digits;
        long value = 0;
        while (end < limit && (hex ? char.IsAsciiHexDigit(html[end]) : char.IsAsciiDigit(html[end])))
        {
            if (value <= 0x10FFFF) value = value * (hex ? 16 : 10) + Convert.ToInt32(html[end].ToString(), hex ? 16 : 10);
            end++;
        }
        if (end == digits) { output.Append('&').Append('#'); if (hex) output.Append(html[i]); return digits; }
        if (end < limit && html[end] == ';') end++;
        if (value == 0 || value > 0x10FFFF || value is >= 0xD800 and <= 0xDFFF) output.Append('\uFFFD');
        else if (value is >= 0x80 and <= 0x9F) output.Append(Windows1252[value - 0x80]);
        else output.Append(char.ConvertFromUtf32((int)value));
        return end;
    }
}
