using System.Text;
using Dclm.Data.IO;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// Zstandard-compressed JSON lines, the DCLM pool's format: either one document line is mutated as JSON (or
/// replaced by a broken line) before compressing, or the compressed frame itself is mutated as bytes (a
/// damaged checksum, a cut frame, a second frame, garbage after it). Each case is read to the end as documents.
/// </summary>
internal sealed class JsonlZstTarget : FuzzTarget
{
    private static readonly string[] Words = ["text", "url", "id", "metadata", "language", "en"];

    private static readonly string[] Documents =
    [
        """{"text": "The first document.\nIt has two lines.", "url": "https://example.com/1", "id": "a"}""",
        """{"text": "Ünïcödé and 😀 and \"quotes\"", "url": "https://example.com/2", "metadata": {"score": 0.93}}""",
        """{"text": "", "id": 3}""",
        """{"text": "tab\there", "url": null}""",
    ];

    private readonly ScratchFolder folder = new("jsonl-zst");
    private readonly byte[] compressed;

    public JsonlZstTarget()
    {
        compressed = Compress(Encoding.UTF8.GetBytes(string.Join("\n", Documents) + "\n"));
    }

    public override string Name => "jsonl-zst";

    public override string ExpectedErrors => "InvalidDataException naming the file";

    public override byte[] NextCase(Random random)
    {
        if (random.Next(3) == 0) return ByteMutator.Mutate(compressed, random, compressed);
        var lines = Documents.Select(Encoding.UTF8.GetBytes).ToList();
        int at = random.Next(lines.Count);
        lines[at] = random.Next(5) switch
        {
            0 => Encoding.UTF8.GetBytes(Documents[at][..random.Next(Documents[at].Length)]),
            1 => ByteMutator.Mutate(lines[at], random),
            _ => JsonMutator.Mutate(Documents[at], random, Words),
        };
        var text = new List<byte>();
        foreach (var line in lines)
        {
            text.AddRange(line);
            text.Add((byte)'\n');
        }
        return Compress([.. text]);
    }

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        string path = folder.File("case.jsonl.zst");
        File.WriteAllBytes(path, input);
        try
        {
            foreach (var document in DocumentJsonl.ReadFile(path, "fuzz")) _ = document.Text.Length + document.Id.Length + document.Url.Length;
            return true;
        }
        catch (InvalidDataException error)
        {
            CheckMessage(error, path);
            return false;
        }
    }

    public override void Dispose() => folder.Dispose();

    private static byte[] Compress(byte[] bytes)
    {
        var output = new MemoryStream();
        using (var zstd = CompressedFile.WrapWrite(output, "x.zst")) zstd.Write(bytes);
        return output.ToArray();
    }
}
