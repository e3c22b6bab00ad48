using System.Text;
using Dclm.Data.Extraction;
using Dclm.Data.Warc;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// WARC files, plain and gzip-per-record as Common Crawl writes them: the plain seed's header lines are edited
/// as lines (Content-Length set to edge values, version lines and field names broken, lines dropped, repeated
/// or lengthened, the HTTP status line and charset of the block changed); the gzip seed is mutated as bytes.
/// Each case is read to the end, and every response's HTTP block parsed and its HTML extracted.
/// </summary>
internal sealed class WarcTarget : FuzzTarget
{
    private static readonly string[] HeaderEdits =
    [
        "Content-Length: -1", "Content-Length: 0", "Content-Length: 99999999999", "Content-Length: 268435455", "Content-Length: 268435457",
        "Content-Length: 1e3", "Content-Length:", "WARC/2.0", "WARC/1.0", "WARC/1.1", ": no name", " folded continuation",
        "WARC-Type: response", "Content-Type: application/http; msgtype=response", new string('X', 70_000), "",
    ];

    private static readonly string[] BlockEdits =
    [
        "HTTP/1.1 200 OK", "HTTP/1.1 abc", "HTTP/9", "Content-Type: text/html; charset=utf-7", "Content-Type: text/html; charset=x-nope",
        "Content-Type: text/html; charset=utf-16", "Content-Type: text/html; charset=\"", "<html><body><p>" + new string('p', 200), "<script>", "</div></div>",
    ];

    private readonly ScratchFolder folder = new("warc");
    private readonly byte[] plain;
    private readonly byte[] gzipped;
    private readonly HtmlTextExtractor extractor = new();

    public WarcTarget()
    {
        plain = Write(gzip: false);
        gzipped = Write(gzip: true);
    }

    public override string Name => "warc";

    public override string ExpectedErrors => "InvalidDataException naming the file";

    public override byte[] NextCase(Random random)
    {
        int kind = random.Next(5);
        if (kind == 0) return [0x1F, .. ByteMutator.Mutate(gzipped, random)[1..]];
        if (kind == 1) return ByteMutator.Mutate(plain, random);
        var lines = Encoding.Latin1.GetString(plain).Split("\r\n").ToList();
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits; i++)
        {
            int at = random.Next(lines.Count);
            switch (random.Next(5))
            {
                case 0: lines[at] = HeaderEdits[random.Next(HeaderEdits.Length)]; break;
                case 1: lines[at] = BlockEdits[random.Next(BlockEdits.Length)]; break;
                case 2: lines.RemoveAt(at); break;
                case 3: lines.Insert(at, lines[random.Next(lines.Count)]); break;
                default: lines[at] = lines[at].Replace(random.Next(2) == 0 ? "\r" : ":", random.Next(2) == 0 ? "" : "::"); break;
            }
        }
        return Encoding.Latin1.GetBytes(string.Join(random.Next(8) == 0 ? "\n" : "\r\n", lines));
    }

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        string path = folder.File(input.Length > 1 && input[0] == 0x1F && input[1] == 0x8B ? "case.warc.gz" : "case.warc");
        File.WriteAllBytes(path, input);
        try
        {
            using var reader = WarcReader.Open(path);
            foreach (var record in reader.ReadAll())
            {
                _ = record.Type + record.TargetUri + record.RecordId;
                if (record.Type == "response" && HttpResponse.Parse(record.Block) is { } response && response.ContentType.Contains("html"))
                    _ = extractor.Extract(response.Body);
            }
            return true;
        }
        catch (InvalidDataException error)
        {
            CheckMessage(error, path);
            return false;
        }
    }

    public override void Dispose() => folder.Dispose();

    private byte[] Write(bool gzip)
    {
        var stream = new MemoryStream();
        using (var writer = new WarcWriter(stream, gzipPerRecord: gzip))
        {
            var date = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            writer.Write("warcinfo", "", "application/warc-fields", "software: dclm-fuzz\r\n"u8.ToArray(), date);
            writer.Write("request", "https://example.com/a", "application/http; msgtype=request", "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n"u8.ToArray(), date);
            string html = "<html><head><title>T</title></head><body><h1>Heading</h1><p>Some text, é and 😀.</p><ul><li>one</li></ul></body></html>";
            writer.Write("response", "https://example.com/a", "application/http; msgtype=response",
                Encoding.UTF8.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html), date);
            writer.Write("response", "https://example.com/b", "application/http; msgtype=response",
                Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>caf\u00e9</p>"), date);
        }
        return stream.ToArray();
    }
}
