using System.Buffers.Binary;
using System.Text;

namespace Dclm.Formats.Gguf;

/// <summary>
/// Reads little-endian values from a mapped file, checking every read against the bytes left so that
/// a lying length fails with a "truncated" error instead of reading past the mapping.
/// </summary>
internal sealed unsafe class GgufCursor
{
    private readonly byte* start;

    public GgufCursor(MappedFile file)
    {
        start = file.Pointer;
        Length = file.Length;
        Path = file.Path;
    }

    public string Path { get; }
    public long Length { get; }
    public long Position { get; private set; }
    public long Remaining => Length - Position;

    public ModelFileException Error(string problem) => new(Path, problem);

    /// <summary>Throws unless <paramref name="count"/> more bytes exist; <paramref name="what"/> names them in the message.</summary>
    public void Require(long count, string what)
    {
        if (count < 0 || count > Remaining)
            throw Error($"truncated: {what} needs {count} bytes at offset {Position}, but the file has {Length} bytes");
    }

    public byte ReadByte(string what)
    {
        Require(1, what);
        return start[Position++];
    }

    public uint ReadUInt32(string what)
    {
        Require(4, what);
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(start + Position, 4));
        Position += 4;
        return value;
    }

    public ulong ReadUInt64(string what)
    {
        Require(8, what);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(start + Position, 8));
        Position += 8;
        return value;
    }

    /// <summary>Reads a GGUF string: a uint64 byte count, then that many UTF-8 bytes.</summary>
    public string ReadString(string what)
    {
        ulong byteCount = ReadUInt64(what);
        if (byteCount > (ulong)Remaining)
            throw Error($"{what}: string length {byteCount} at offset {Position - 8} runs past the end of the file ({Length} bytes)");
        if (byteCount > int.MaxValue)
            throw Error($"{what}: string length {byteCount} is too large");
        string text = Encoding.UTF8.GetString(start + Position, (int)byteCount);
        Position += (long)byteCount;
        return text;
    }

    /// <summary>Copies <paramref name="count"/> fixed-size values; the caller has bounded the count by the bytes left.</summary>
    public T[] ReadArray<T>(int count, string what) where T : unmanaged
    {
        long byteCount = (long)count * sizeof(T);
        Require(byteCount, what);
        var values = new T[count];
        fixed (T* destination = values)
            Buffer.MemoryCopy(start + Position, destination, byteCount, byteCount);
        Position += byteCount;
        return values;
    }

    /// <summary>Moves to <paramref name="position"/>, which must lie inside the file or at its end.</summary>
    public void Seek(long position, string what)
    {
        if (position < 0 || position > Length)
            throw Error($"truncated: {what} starts at offset {position}, but the file has {Length} bytes");
        Position = position;
    }
}
