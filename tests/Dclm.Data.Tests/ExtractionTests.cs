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

/// <summary>The fast parser against AngleSharp's complete HTML5 parser under the same extraction rules.</summary>
public class ExtractionParserTests
{
    private static readonly HtmlTextExtractor Fast = new();
    private static readonly Reference.AngleSharpExtractor Reference = new();

    [Fact]
    public void EveryFixturePageExtractsAsWithAngleSharp()
    {
        using var reader = WarcReader.Open(Fixtures.PathOf("web.warc.gz"));
        int pages = 0;
        foreach (var page in reader.ReadAll().Select(r => InputUnitReader.ToDocument(r, "x")).OfType<Dclm.Data.Documents.Document>())
        {
            Assert.Equal(Reference.Extract(page.Text), Fast.Extract(page.Text));
            pages++;
        }
        Assert.Equal(9, pages);
    }

    [Theory]
    [InlineData("<p>one<p>two<div>three</div>four")]                                   // implied </p>
    [InlineData("<ul><li>a<li>b</ul><dl><dt>t<dd>d<dt>u</dl>")]                         // implied </li>, </dt>, </dd>
    [InlineData("<table><tr><td>a<td>b<tr><td>c</table>")]                              // implied cells and rows
    [InlineData("<h1>Title<h2>Sub</h2>after")]                                          // a heading closes a heading
    [InlineData("<pre>\nline 1\n  line 2</pre><p>x</p>")]                                 // a newline after <pre> is dropped
    [InlineData("<p>a &amp; b &lt;c&gt; &copy 2024 &#169; &#xA9; &#128; &notit; &bogus;</p>")] // character references
    [InlineData("<p>x<script>if (a < b) { document.write('</p>'); }</script>y</p>")]    // raw text up to </script>
    [InlineData("<title>a &amp; b</title><p>body</p>")]                                  // RCDATA
    [InlineData("<!-- comment --><!DOCTYPE html><p>a<!-- b -->c</p><?php x ?>")]        // comments and doctypes
    [InlineData("text before any tag<p>para</p>")]                                      // implied html, head, body
    [InlineData("<div id=\"site-nav\"><a href=x>Home</a> text</div><div class=\"main_footer\">f</div><p hidden>h</p><p aria-hidden=true>a</p>ok")]
    [InlineData("<main>   </main><article><p>real</p></article>")]                        // an empty <main> does not count
    [InlineData("<div><a href=1>one</a> <a href=2>two</a> x</div><div>plain text here <a>l</a></div>")] // link density
    [InlineData("<p>a</b>b</i>c<span>d</div>e</p>")]                                    // stray end tags
    [InlineData("<p>x\r\ny\rz</p><pre>a\r\nb</pre>")]                                    // CR and CRLF
    [InlineData("<svg><text>vector</text><circle/></svg><p>after</p>")]                 // foreign content
    [InlineData("<br/>a<br>b</br>c")]                                                   // </br> is a <br>
    public void SmallPagesExtractAsWithAngleSharp(string html) => Assert.Equal(Reference.Extract(html), Fast.Extract(html));
}
