using Dclm.Tensors;

namespace Dclm.Formats.Gguf;

/// <summary>
/// A GGUF file (version 2 or 3) mapped read-only or read into memory (<see cref="FileResidence"/>): its
/// metadata and tensors, validated against the file size when opened. <see cref="TensorEntry.Data"/>
/// points into the file's bytes and is valid until <see cref="Dispose"/>.
/// </summary>
public sealed class GgufFile : IDisposable
{
    /// <summary>The alignment of tensor data when the file does not set <c>general.alignment</c>.</summary>
    public const uint DefaultAlignment = 32;

    /// <summary>The little-endian magic "GGUF" read as a uint32.</summary>
    internal const uint Magic = 0x46554747;

    private readonly MappedFile file;

    private GgufFile(MappedFile file, uint version, Dictionary<string, GgufValue> metadata,
        Dictionary<string, TensorEntry> tensors, uint alignment, long dataOffset)
    {
        this.file = file;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;
    }

    /// <summary>The path the file was opened with.</summary>
    public string FilePath => file.Path;

    /// <summary>File size in bytes.</summary>
    public long FileLength => file.Length;

    /// <summary>Format version: 2 or 3.</summary>
    public uint Version { get; }

    /// <summary>Metadata in file order.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Tensors in file order, shapes row-major (ggml <c>ne</c> reversed).</summary>
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }

    /// <summary>The tensor data alignment (<c>general.alignment</c>, default 32).</summary>
    public uint Alignment { get; }

    /// <summary>Offset of the data section from the start of the file; tensor offsets count from here.</summary>
    public long DataOffset { get; }

    /// <summary>Where the file's bytes are held (mapped, or read into memory).</summary>
    public FileResidence Residence => file.Residence;

    /// <summary>Bytes of an in-memory copy that Linux backs with 2 MB pages (0 when mapped).</summary>
    public long HugePageBytes => file.HugePageBytes;

    /// <summary>
    /// Maps (or, with <see cref="FileResidence.Copied"/>, reads into memory, calling <paramref name="onRead"/> with
    /// each piece's byte count) and validates <paramref name="path"/>; throws <see cref="ModelFileException"/> when
    /// it is not a well-formed GGUF file.
    /// </summary>
    public static GgufFile Open(string path, FileResidence residence = FileResidence.Mapped, Action<long>? onRead = null) =>
        MappedFile.OpenParsed(path, residence, onRead, Parse);

    private static GgufFile Parse(MappedFile file)
    {
        var cursor = new GgufCursor(file);
        if (file.Length < 4) throw cursor.Error($"truncated: {file.Length} bytes is too short for a GGUF header");
        uint magic = cursor.ReadUInt32("magic");
        if (magic != Magic) throw cursor.Error($"not a GGUF file (magic 0x{magic:x8}, expected \"GGUF\")");
        uint version = cursor.ReadUInt32("version");
        if (version is not (2 or 3)) throw cursor.Error($"GGUF version {version} is not supported (expected 2 or 3)");
        ulong tensorCount = cursor.ReadUInt64("tensor count");
        ulong metadataCount = cursor.ReadUInt64("metadata count");

        Dictionary<string, GgufValue> metadata = GgufMetadataParser.ReadAll(cursor, metadataCount);
        List<GgufTensorInfo> infos = GgufTensorParser.ReadInfos(cursor, tensorCount);
        uint alignment = ReadAlignment(file.Path, metadata);
        long dataOffset = AlignUp(cursor.Position, alignment);
        Dictionary<string, TensorEntry> tensors = GgufTensorParser.Place(file, infos, dataOffset, alignment);
        return new GgufFile(file, version, metadata, tensors, alignment, dataOffset);
    }

    private static uint ReadAlignment(string path, Dictionary<string, GgufValue> metadata)
    {
        if (!metadata.TryGetValue("general.alignment", out GgufValue? value)) return DefaultAlignment;
        if (!value.TryGetInt64(out long alignment) || alignment <= 0 || alignment > 1 << 30 || (alignment & (alignment - 1)) != 0)
            throw new ModelFileException(path, $"general.alignment is {Printable.Text(value.ToString())} ({value.TypeDescription}), expected a power of two");
        return (uint)alignment;
    }

    internal static long AlignUp(long position, uint alignment) => (position + alignment - 1) / alignment * alignment;

    /// <summary>Releases the mapping; tensor pointers become invalid.</summary>
    public void Dispose() => file.Dispose();

    // ---- metadata getters: a missing key or a wrong type throws ModelFileException naming the key ----

    /// <summary>The value of <paramref name="key"/>, or a <see cref="ModelFileException"/> naming the missing key.</summary>
    public GgufValue Get(string key) =>
        Metadata.TryGetValue(key, out GgufValue? value) ? value : throw new ModelFileException(FilePath, $"metadata key '{key}' is missing");

    /// <summary>A string value.</summary>
    public string GetString(string key) => TryGetString(key, out string? value) ? value : throw Missing(key);

    /// <summary>An integer of any width whose value fits in uint32.</summary>
    public uint GetUInt32(string key) => TryGetUInt32(key, out uint value) ? value : throw Missing(key);

    /// <summary>An integer of any width whose value fits in int32.</summary>
    public int GetInt32(string key) => TryGetInt32(key, out int value) ? value : throw Missing(key);

    /// <summary>An integer of any width whose value fits in int64.</summary>
    public long GetInt64(string key) => TryGetInt64(key, out long value) ? value : throw Missing(key);

    /// <summary>A float32 value; float64 and integer values are converted.</summary>
    public float GetFloat32(string key) => TryGetFloat32(key, out float value) ? value : throw Missing(key);

    /// <summary>A bool value.</summary>
    public bool GetBool(string key) => TryGetBool(key, out bool value) ? value : throw Missing(key);

    /// <summary>An array of strings (a fresh copy, in file order).</summary>
    public string[] GetStringArray(string key) => TryGetStringArray(key, out string[]? value) ? value : throw Missing(key);

    /// <summary>An array of float32 (float64 arrays are converted); a fresh copy.</summary>
    public float[] GetFloat32Array(string key) => TryGetFloat32Array(key, out float[]? value) ? value : throw Missing(key);

    /// <summary>An array of any integer type whose values all fit in int32; a fresh copy.</summary>
    public int[] GetInt32Array(string key) => TryGetInt32Array(key, out int[]? value) ? value : throw Missing(key);

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present with another type.</summary>
    public bool TryGetString(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = null;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        value = stored.Value as string ?? throw WrongType(key, stored, "string");
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not an integer that fits in uint32.</summary>
    public bool TryGetUInt32(string key, out uint value)
    {
        value = 0;
        if (!TryGetInteger(key, "uint32", uint.MinValue, uint.MaxValue, out long integer)) return false;
        value = (uint)integer;
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not an integer that fits in int32.</summary>
    public bool TryGetInt32(string key, out int value)
    {
        value = 0;
        if (!TryGetInteger(key, "int32", int.MinValue, int.MaxValue, out long integer)) return false;
        value = (int)integer;
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not an integer that fits in int64.</summary>
    public bool TryGetInt64(string key, out long value) => TryGetInteger(key, "int64", long.MinValue, long.MaxValue, out value);

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not a number.</summary>
    public bool TryGetFloat32(string key, out float value)
    {
        value = 0;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        if (stored.IsArray || !stored.TryGetFloat64(out double number)) throw WrongType(key, stored, "float32");
        value = (float)number;
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not a bool.</summary>
    public bool TryGetBool(string key, out bool value)
    {
        value = false;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        if (stored.Value is not bool flag) throw WrongType(key, stored, "bool");
        value = flag;
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not an array of strings.</summary>
    public bool TryGetStringArray(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string[]? value)
    {
        value = null;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        if (stored.Value is not string[] strings || !stored.IsArray) throw WrongType(key, stored, "array of string");
        value = (string[])strings.Clone();
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not an array of float32 or float64.</summary>
    public bool TryGetFloat32Array(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out float[]? value)
    {
        value = null;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        value = stored.Value switch
        {
            float[] floats when stored.IsArray => (float[])floats.Clone(),
            double[] doubles when stored.IsArray => Array.ConvertAll(doubles, number => (float)number),
            _ => throw WrongType(key, stored, "array of float32"),
        };
        return true;
    }

    /// <summary>False when <paramref name="key"/> is absent; throws when it is present but not an integer array whose values fit in int32.</summary>
    public bool TryGetInt32Array(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out int[]? value)
    {
        value = null;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        if (!stored.IsArray) throw WrongType(key, stored, "array of int32");
        if (stored.Value is int[] ints) { value = (int[])ints.Clone(); return true; }
        var source = (Array)stored.Value;
        var result = new int[source.Length];
        for (int index = 0; index < result.Length; index++)
        {
            long element = source.GetValue(index) switch
            {
                byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, long v => v,
                ulong v when v <= int.MaxValue => (long)v,
                ulong => long.MaxValue,
                _ => throw WrongType(key, stored, "array of int32"),
            };
            if (element is < int.MinValue or > int.MaxValue)
                throw new ModelFileException(FilePath, $"metadata key '{key}' element {index} is {element}, which does not fit in int32");
            result[index] = (int)element;
        }
        value = result;
        return true;
    }

    private bool TryGetInteger(string key, string expected, long minimum, long maximum, out long value)
    {
        value = 0;
        if (!Metadata.TryGetValue(key, out GgufValue? stored)) return false;
        if (stored.IsArray || !stored.TryGetInt64(out long integer) || integer < minimum || integer > maximum)
            throw WrongType(key, stored, expected);
        value = integer;
        return true;
    }

    private ModelFileException Missing(string key) => new(FilePath, $"metadata key '{key}' is missing");

    private ModelFileException WrongType(string key, GgufValue stored, string expected) =>
        new(FilePath, $"metadata key '{key}' is {stored.TypeDescription} {Abbreviate(stored)}, expected {expected}");

    private static string Abbreviate(GgufValue value) => Printable.Text(value.ToString());

    /// <summary>The tensor called <paramref name="name"/>, or a <see cref="ModelFileException"/> naming it.</summary>
    public TensorEntry GetTensor(string name) =>
        Tensors.TryGetValue(name, out TensorEntry entry) ? entry : throw new ModelFileException(FilePath, $"tensor '{name}' is missing");
}
