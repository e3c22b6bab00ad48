using Dclm.Data.Extraction;
using Dclm.Data.Inputs;
using Dclm.Data.Warc;

namespace Dclm.Data.Tests;

public class ExtractionTests
{
    private static readonly HtmlTextExtractor Extractor = new();

    [Fact]
    public void DropsScriptsNavigationAndFootersAndKeepsBlocksAsLines()
    {
        var html = """
            <html><head><title>T</title><style>p{}</style></head><body>
            <nav><a href="/">Home</a> <a href="/about">About</a></nav>
            <div id="sidebar"><a href="/x">Link one</a></div>
            <main><h1>Real title</h1><p>First   paragraph
            continues here.</p><script>var x = 1;</script><p>Second<br>line</p>
            <ul><li><a href="/1">one</a></li><li><a href="/2">two</a></li></ul>
            <pre>code  line 1
            code line 2</pre></main>
            <footer>Copyright</footer></body></html>
            """;
        var text = Extractor.Extract(html);
        Assert.Equal("Real title\nFirst paragraph continues here.\nSecond\nline\ncode  line 1\ncode line 2", text);
    }

    [Fact]
    public void CppreferencePageLosesMediaWikiChrome()
    {
        using var reader = WarcReader.Open(Fixtures.PathOf("web.warc.gz"));
        var page = reader.ReadAll().Select(r => InputUnitReader.ToDocument(r, "x")).First(d => d is not null && d.Url.EndsWith("kill_dependency.html"))!;
        Assert.Contains("Dynamic memory management", page.Text); // the raw page has cppreference's navigation bar
        var text = Extractor.Extract(page.Text);
        Assert.Contains("Informs the compiler that the dependency tree started by an memory_order_consume atomic load", text);
        Assert.DoesNotContain("Dynamic memory management", text);
        Assert.DoesNotContain("Retrieved from", text);
        Assert.DoesNotContain("function(", text);
        Assert.True(text.Length < page.Text.Length / 4);
    }

    [Fact]
    public void SphinxPageKeepsBodyWithoutSidebar()
    {
        using var reader = WarcReader.Open(Fixtures.PathOf("web.warc.gz"));
        var page = reader.ReadAll().Select(r => InputUnitReader.ToDocument(r, "x")).First(d => d is not null && d.Url.EndsWith("about.html"))!;
        var text = Extractor.Extract(page.Text);
        Assert.StartsWith("About these documents", text);
        Assert.Contains("Development of the documentation and its toolchain is an entirely volunteer effort", text);
        Assert.DoesNotContain("Quick search", text);
        Assert.DoesNotContain("Previous topic", text);
    }
}
