using System.Buffers.Binary;
using System.Text.Json;

namespace Dclm.Formats.Safetensors;

/// <summary>
/// One .safetensors file, mapped read-only or read into memory (<see cref="FileResidence"/>): an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the data. Everything is validated when opened;
/// <see cref="TensorEntry.Data"/> points into the file's bytes and is valid until <see cref="Dispose"/>.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Largest JSON header accepted (the reference implementation's limit).</summary>
    public const long MaximumHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MappedFile file;

    private SafetensorsFile(MappedFile file, long dataOffset, Dictionary<string, string> metadata, Dictionary<string, TensorEntry> tensors)
    {
        this.file = file;
        DataOffset = dataOffset;
        Metadata = metadata;
        Tensors = tensors;
    }

    /// <summary>The path the file was opened with.</summary>
    public string FilePath => file.Path;

    /// <summary>File size in bytes.</summary>
    public long FileLength => file.Length;

    /// <summary>Offset of the data section (8 + header length); data_offsets count from here.</summary>
    public long DataOffset { get; }

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensors in header order; shapes are row-major as stored.</summary>
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }

    /// <summary>Where the file's bytes are held (mapped, or read into memory).</summary>
    public FileResidence Residence => file.Residence;

    /// <summary>Bytes of an in-memory copy that Linux backs with 2 MB pages (0 when mapped).</summary>
    public long HugePageBytes => file.HugePageBytes;

    /// <summary>
    /// Maps (or, with <see cref="FileResidence.Copied"/>, reads into memory, calling <paramref name="onRead"/> with
    /// each piece's byte count) and validates <paramref name="path"/>; throws <see cref="ModelFileException"/> when
    /// it is not a well-formed safetensors file.
    /// </summary>
    public static SafetensorsFile Open(string path, FileResidence residence = FileResidence.Mapped, Action<long>? onRead = null) =>
        MappedFile.OpenParsed(path, residence, onRead, Parse);

    private static unsafe SafetensorsFile Parse(MappedFile file)
    {
        if (file.Length < 8)
            throw new ModelFileException(file.Path, $"truncated: {file.Length} bytes is too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(file.Pointer, 8));
        if (headerLength > (ulong)(file.Length - 8))
            throw new ModelFileException(file.Path, $"header length {headerLength} runs past the end of the file ({file.Length} bytes)");
        if (headerLength > MaximumHeaderBytes)
            throw new ModelFileException(file.Path, $"header length {headerLength} exceeds the {MaximumHeaderBytes}-byte limit");
        if (headerLength < 2 || file.Pointer[8] != (byte)'{')
            throw new ModelFileException(file.Path, "header is not a JSON object");

        long dataOffset = 8 + (long)headerLength;
        var header = new ReadOnlySpan<byte>(file.Pointer + 8, (int)headerLength).ToArray();
        // JsonDocument checks UTF-8 inside strings only when they are read, so check it all up front.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new ModelFileException(file.Path, "header is not valid UTF-8");
        JsonStrings.Check(header, file.Path, "the header");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException error)
        {
            throw new ModelFileException(file.Path, $"header is not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFileException(file.Path, "header is not a JSON object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
            var ranges = new List<(string Name, long Begin, long End)>();
            long dataLength = file.Length - dataOffset;
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(file.Path, property.Value, metadata);
                    continue;
                }
                var (entry, begin, end) = SafetensorsHeaderEntry.Read(file, property, dataOffset, dataLength);
                if (!tensors.TryAdd(property.Name, entry))
                    throw new ModelFileException(file.Path, $"tensor '{Printable.Text(property.Name)}' appears twice in the header");
                ranges.Add((property.Name, begin, end));
            }
            CheckLayout(file.Path, ranges, dataLength);
            return new SafetensorsFile(file, dataOffset, metadata, tensors);
        }
    }

    private static void ReadMetadata(string path, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new ModelFileException(path, $"{MetadataKey} is a JSON {element.ValueKind}, expected an object of strings");
        foreach (JsonProperty pair in element.EnumerateObject())
        {
            if (pair.Value.ValueKind != JsonValueKind.String)
                throw new ModelFileException(path, $"{MetadataKey} value '{Printable.Text(pair.Name)}' is a JSON {pair.Value.ValueKind}, expected a string");
            if (!metadata.TryAdd(pair.Name, pair.Value.GetString()!))
                throw new ModelFileException(path, $"{MetadataKey} key '{Printable.Text(pair.Name)}' appears twice");
        }
    }

    /// <summary>
    /// The format's rule (the reference implementation's <c>validate</c>): the tensors' byte ranges, in offset
    /// order, tile the data section exactly — no overlap, no gap, nothing after the last one. A header length
    /// shortened into the header's space padding still parses as JSON; this is what catches it, because every
    /// tensor would then be read from the wrong bytes.
    /// </summary>
    private static void CheckLayout(string path, List<(string Name, long Begin, long End)> ranges, long dataLength)
    {
        ranges.Sort((left, right) => left.Begin != right.Begin ? left.Begin.CompareTo(right.Begin) : left.End.CompareTo(right.End));
        long covered = 0;
        string previousName = "";
        long previousBegin = 0;
        foreach (var (name, begin, end) in ranges)
        {
            if (begin < covered)
                throw new ModelFileException(path,
                    $"tensor '{Printable.Text(name)}' data_offsets [{begin}, {end}) overlap tensor '{Printable.Text(previousName)}' [{previousBegin}, {covered})");
            if (begin > covered)
                throw new ModelFileException(path, covered == 0
                    ? $"tensor '{Printable.Text(name)}' data_offsets [{begin}, {end}) leave bytes [0, {begin}) of the data section unused; the first tensor must start at 0"
                    : $"tensor '{Printable.Text(name)}' data_offsets [{begin}, {end}) leave a gap [{covered}, {begin}) after tensor '{Printable.Text(previousName)}'");
            (previousName, previousBegin, covered) = (name, begin, end);
        }
        long extra = dataLength - covered;
        if (extra != 0)
            throw new ModelFileException(path,
                $"the data section holds {dataLength} bytes but the tensors cover {covered}: {extra} {(extra == 1 ? "byte belongs" : "bytes belong")} to no tensor (a wrong header length, or bytes appended to the file)");
    }

    /// <summary>The tensor called <paramref name="name"/>, or a <see cref="ModelFileException"/> naming it.</summary>
    public TensorEntry GetTensor(string name) =>
        Tensors.TryGetValue(name, out TensorEntry entry) ? entry : throw new ModelFileException(FilePath, $"tensor '{name}' is missing");

    /// <summary>Releases the mapping; tensor pointers become invalid.</summary>
    public void Dispose() => file.Dispose();
}
