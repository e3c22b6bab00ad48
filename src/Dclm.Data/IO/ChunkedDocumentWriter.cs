using Dclm.Data.Documents;
using Dclm.Formats;

namespace Dclm.Data.IO;

/// <summary>
/// Writes documents into numbered <c>prefix-00000.jsonl.zst</c> files of a fixed document count, each file
/// written atomically, and removes stale higher-numbered files from an earlier, larger run. Intermediate files
/// (<paramref name="fast"/>) use zstd's fastest level.
/// </summary>
public sealed class ChunkedDocumentWriter(string directory, string prefix, int documentsPerFile, bool fast = false)
{
    private readonly List<Document> _buffer = new();

    /// <summary>Files written so far, relative to <c>directory</c>.</summary>
    public List<string> Files { get; } = new();

    /// <summary>Documents written so far.</summary>
    public long Count { get; private set; }

    /// <summary>Adds a document, flushing a full file.</summary>
    public void Add(Document document)
    {
        _buffer.Add(document);
        Count++;
        if (_buffer.Count >= documentsPerFile) Flush();
    }

    /// <summary>Writes the last partial file and deletes leftovers with higher numbers.</summary>
    public void Complete()
    {
        if (_buffer.Count > 0) Flush();
        if (!Directory.Exists(directory)) return;
        var current = new HashSet<string>(Files, StringComparer.Ordinal);
        foreach (var stale in Directory.EnumerateFiles(directory, prefix + "-*.jsonl.zst"))
            if (!current.Contains(Path.GetFileName(stale))) File.Delete(stale);
        AtomicFile.RemoveLeftovers(directory);
    }

    private void Flush()
    {
        var name = $"{prefix}-{Files.Count:D5}.jsonl.zst";
        var documents = _buffer.ToArray();
        AtomicFile.Write(Path.Combine(directory, name), stream =>
        {
            using var compressed = CompressedFile.WrapWrite(new NonClosingStream(stream), name, fast);
            DocumentJsonl.WriteAll(compressed, documents);
        });
        Files.Add(name);
        _buffer.Clear();
    }
}

/// <summary>Lets a compressor be disposed (flushing its frame) without closing the file underneath.</summary>
internal sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
}
