using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Dclm.Data.Tests.Reference;

/// <summary>
/// The extraction rules of <see cref="Dclm.Data.Extraction.HtmlTextExtractor"/> over AngleSharp's spec-complete HTML5
/// parser, kept as the reference the fast parser is compared with (it was the pipeline's extractor before). The page
/// is parsed with AngleSharp; scripts, styles, forms, navigation landmarks and link-dense blocks are dropped; when the page
/// marks its main content (<c>main</c>, <c>article</c>, <c>role=main</c>, MediaWiki's <c>#mw-content-text</c>,
/// <c>#content</c>) only that subtree is read. Block elements end lines, <c>br</c> breaks lines and <c>pre</c>
/// keeps its own line structure; other whitespace collapses to single spaces.
/// </summary>
public sealed class AngleSharpExtractor
{
    private static readonly HashSet<string> Removed = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "form", "button",
        "select", "input", "textarea", "nav", "header", "footer", "aside", "menu", "head", "title", "meta", "link",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
        "table", "tr", "blockquote", "pre", "figure", "figcaption", "address", "hr", "body", "center", "caption",
        "details", "summary", "tbody", "thead", "tfoot",
    };

    private static readonly string[] BoilerplateMarkers =
    [
        "nav", "navbar", "menu", "sidebar", "footer", "header", "breadcrumb", "cookie", "banner", "toc", "catlinks",
        "printfooter", "related", "share", "social", "sphinxsidebar", "mw-head", "mw-panel", "mw-navigation",
        "jump", "skip", "editsection", "advert", "subscribe", "login",
    ];

    private static readonly string[] MainSelectors =
        ["main", "article", "[role=main]", "#mw-content-text", "#content", "div.body", "div.document"];

    private readonly HtmlParser _parser = new();

    /// <summary>Maximum share of a block's text that may sit inside links before the block counts as navigation.</summary>
    public double MaximumLinkDensity { get; init; } = 0.6;

    /// <summary>Extracts the main content of <paramref name="html"/> as lines of plain text.</summary>
    public string Extract(string html)
    {
        using var document = _parser.ParseDocument(html);
        IElement? root = null;
        foreach (var selector in MainSelectors)
        {
            root = document.QuerySelector(selector);
            if (root is not null && root.TextContent.Trim().Length > 0) break;
            root = null;
        }
        root ??= document.Body ?? document.DocumentElement;
        var builder = new StringBuilder();
        foreach (var child in root.ChildNodes) Render(child, builder, insidePre: false);
        return Normalize(builder.ToString());
    }

    private void Render(INode node, StringBuilder output, bool insidePre)
    {
        switch (node)
        {
            case IText text:
                if (insidePre) output.Append(text.Data);
                else AppendCollapsed(output, text.Data);
                return;
            case IElement element:
                var name = element.LocalName;
                if (Removed.Contains(name) || IsBoilerplate(element)) return;
                if (name == "br") { output.Append('\n'); return; }
                bool block = Blocks.Contains(name);
                if (block && name is "ul" or "ol" or "table" or "dl" or "div" && IsLinkDense(element)) return;
                if (block) output.Append('\n');
                bool pre = insidePre || name == "pre";
                foreach (var child in element.ChildNodes) Render(child, output, pre);
                if (name is "td" or "th") output.Append(' ');
                if (block) output.Append('\n');
                return;
        }
    }

    private static bool IsBoilerplate(IElement element)
    {
        var role = element.GetAttribute("role");
        if (role is "navigation" or "banner" or "contentinfo" or "search" or "complementary") return true;
        if (element.GetAttribute("aria-hidden") == "true" || element.HasAttribute("hidden")) return true;
        var marker = ((element.Id ?? "") + " " + (element.ClassName ?? "")).ToLowerInvariant();
        if (marker.Length <= 1) return false;
        foreach (var token in marker.Split([' ', '_'], StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var word in BoilerplateMarkers)
            {
                if (token == word || token.StartsWith(word + "-", StringComparison.Ordinal) || token.EndsWith("-" + word, StringComparison.Ordinal))
                    return true;
            }
        }
        return false;
    }

    private bool IsLinkDense(IElement element)
    {
        int total = CountLetters(element.TextContent);
        if (total == 0) return false;
        int linked = element.QuerySelectorAll("a").Sum(a => CountLetters(a.TextContent));
        return (double)linked / total > MaximumLinkDensity;
    }

    private static int CountLetters(string text)
    {
        int count = 0;
        foreach (var c in text) if (!char.IsWhiteSpace(c)) count++;
        return count;
    }

    private static void AppendCollapsed(StringBuilder output, string data)
    {
        foreach (var c in data)
        {
            if (char.IsWhiteSpace(c))
            {
                if (output.Length > 0 && output[^1] != ' ' && output[^1] != '\n') output.Append(' ');
            }
            else output.Append(c);
        }
    }

    /// <summary>Trims every line and collapses runs of blank lines to one newline.</summary>
    private static string Normalize(string raw)
    {
        var lines = raw.Split('\n');
        var result = new StringBuilder(raw.Length);
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0) continue;
            if (result.Length > 0) result.Append('\n');
            result.Append(trimmed);
        }
        return result.ToString();
    }
}
