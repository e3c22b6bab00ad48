using System.IO.Compression;
using System.Text;
using Dclm.Data.Inputs;
using Dclm.Data.Warc;

namespace Dclm.Data.Tests;

public class WarcTests
{
    private static byte[] WriteRecords(bool gzip, int count)
    {
        var memory = new MemoryStream();
        using (var writer = new WarcWriter(new Dclm.Data.IO.NonClosingStream(memory), gzip))
        {
            for (int i = 0; i < count; i++)
                writer.Write("resource", $"https://example.org/{i}", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"body {i}\r\nwith ünïcode"), new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }
        return memory.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTripsRecordsPlainAndGzipPerRecord(bool gzip)
    {
        var bytes = WriteRecords(gzip, 3);
        Stream stream = new MemoryStream(bytes);
        if (gzip) stream = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new WarcReader(stream, "memory");
        var records = reader.ReadAll().ToList();
        Assert.Equal(3, records.Count);
        Assert.Equal("WARC/1.1", records[2].Version);
        Assert.Equal("https://example.org/2", records[2].TargetUri);
        Assert.Equal("body 2\r\nwith ünïcode", Encoding.UTF8.GetString(records[2].Block));
    }

    [Fact]
    public void GzipFileHasOneMemberPerRecord()
    {
        var bytes = WriteRecords(true, 4);
        int members = 0;
        for (int i = 0; i + 2 < bytes.Length; i++) if (bytes[i] == 0x1f && bytes[i + 1] == 0x8b && bytes[i + 2] == 8) members++;
        Assert.Equal(4, members);
    }

    [Fact]
    public void ReadsWarc10ResponseRecordsWithHttpHeaders()
    {
        var html = "<html><body><p>Hello from a crawl</p></body></html>";
        var block = $"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n{html}";
        var record = $"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Target-URI: http://a.example/\r\nContent-Length: {block.Length}\r\n\r\n{block}\r\n\r\n";
        using var reader = new WarcReader(new MemoryStream(Encoding.Latin1.GetBytes(record)), "crawl.warc");
        var parsed = reader.Next()!;
        var document = InputUnitReader.ToDocument(parsed, "cc")!;
        Assert.True(document.IsHtml);
        Assert.Equal(html, document.Text);
        Assert.Equal("http://a.example/", document.Url);
        Assert.Null(reader.Next());
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", "expected 'WARC/1.0'")]
    [InlineData("WARC/1.0\r\nWARC-Type: resource\r\n\r\nabc", "missing Content-Length")]
    [InlineData("WARC/1.0\r\nContent-Length: 999999999999\r\n\r\n", "exceeds")]
    [InlineData("WARC/1.0\r\nContent-Length: -5\r\n\r\n", "not a non-negative integer")]
    [InlineData("WARC/1.0\r\nContent-Length: 100\r\n\r\nshort", "truncated")]
    [InlineData("WARC/1.0\r\nno colon here\r\n\r\n", "without a field name")]
    [InlineData("WARC/1.0\r\nContent-Length: 2\r\n\r\nabXYZ\r\n\r\n", "terminator")]
    public void CorruptRecordsGiveOneLineErrorsNamingTheFile(string content, string expected)
    {
        using var reader = new WarcReader(new MemoryStream(Encoding.ASCII.GetBytes(content)), "bad.warc");
        var error = Assert.Throws<InvalidDataException>(() => reader.Next());
        Assert.StartsWith("bad.warc", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void CorruptGzipIsReportedWithTheFileName()
    {
        var bytes = WriteRecords(true, 2);
        for (int i = 20; i < 60; i++) bytes[i] ^= 0x5a;
        var path = Path.Combine(Fixtures.TemporaryDirectory(), "broken.warc.gz");
        File.WriteAllBytes(path, bytes);
        using var reader = WarcReader.Open(path);
        var error = Assert.Throws<InvalidDataException>(() => reader.ReadAll().ToList());
        Assert.Contains("broken.warc.gz", error.Message);
    }

    [Fact]
    public void FixtureWarcHoldsRealHtmlPages()
    {
        using var reader = WarcReader.Open(Fixtures.PathOf("web.warc.gz"));
        var documents = reader.ReadAll().Select(r => InputUnitReader.ToDocument(r, "x")).OfType<Dclm.Data.Documents.Document>().ToList();
        Assert.Equal(9, documents.Count);
        Assert.Equal(6, documents.Count(d => d.Source == "cppreference"));
        Assert.All(documents, d => Assert.True(d.IsHtml));
    }

    [Fact]
    public void EmailBodiesAreDecoded()
    {
        var mail = "From: a@b\nSubject: Hello there\nContent-Type: multipart/alternative; boundary=\"XX\"\n\n--XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 is =\nopen\n--XX\nContent-Type: text/html\n\n<p>Cafe</p>\n--XX--\n";
        var (text, isHtml) = EmailMessage.ExtractBody(mail);
        Assert.False(isHtml);
        Assert.Equal("Hello there\n\nCafé is open\n", text);
    }
}
