using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Dclm.Data.FastText;

/// <summary>
/// The bytes of a model file at a fixed address: a read-only memory mapping for files (a 1 GB classifier costs
/// only the pages its features touch) or unmanaged memory filled from a stream. Matrices keep pointers into it,
/// so it lives as long as the model.
/// </summary>
internal sealed unsafe class FastTextBuffer : IDisposable
{
    private MemoryMappedFile? _mapping;
    private MemoryMappedViewAccessor? _view;
    private bool _native;

    private FastTextBuffer(byte* pointer, long length)
    {
        Pointer = pointer;
        Length = length;
    }

    /// <summary>Address of the first byte.</summary>
    public byte* Pointer { get; private set; }

    /// <summary>Size in bytes.</summary>
    public long Length { get; }

    /// <summary>Maps <paramref name="path"/> read-only.</summary>
    public static FastTextBuffer Map(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new FastTextBuffer(null, 0);
        }
        var mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        var view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        return new FastTextBuffer(pointer + view.PointerOffset, length) { _mapping = mapping, _view = view };
    }

    /// <summary>Copies <paramref name="stream"/> to its end into unmanaged memory.</summary>
    public static FastTextBuffer Read(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        long length = copy.Length;
        var pointer = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, length));
        copy.GetBuffer().AsSpan(0, (int)length).CopyTo(new Span<byte>(pointer, (int)length));
        return new FastTextBuffer(pointer, length) { _native = true };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Pointer is null) return;
        if (_native) NativeMemory.Free(Pointer);
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _mapping!.Dispose();
        }
        Pointer = null;
    }
}

/// <summary>
/// Reads the little-endian fields of a fastText file from a <see cref="FastTextBuffer"/>; every failure is an
/// <see cref="InvalidDataException"/> naming the file and the byte offset.
/// </summary>
internal sealed unsafe class FastTextReader(FastTextBuffer buffer, string name)
{
    /// <summary>Offset of the next field.</summary>
    public long Position { get; private set; }

    /// <summary>Bytes left after <see cref="Position"/>.</summary>
    public long Remaining => buffer.Length - Position;

    /// <summary>The file's name for error messages.</summary>
    public string Name => name;

    public void Require(bool condition, string problem)
    {
        if (!condition) throw Error(problem);
    }

    public InvalidDataException Error(string problem) => new($"{name}: not a valid fastText model: {problem} (at byte {Position})");

    /// <summary>The address of the next <paramref name="count"/> bytes, consumed.</summary>
    public byte* Take(long count, string what)
    {
        if (count < 0 || count > Remaining) throw Error($"truncated: {what} needs {count} bytes, {Remaining} left");
        byte* pointer = buffer.Pointer + Position;
        Position += count;
        return pointer;
    }

    public int Int32() => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(Take(4, "an int32"), 4));

    public long Int64() => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(Take(8, "an int64"), 8));

    public double Double() => System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(new ReadOnlySpan<byte>(Take(8, "a double"), 8));

    public byte Byte() => *Take(1, "a byte");

    public bool Boolean()
    {
        byte value = Byte();
        Require(value <= 1, $"boolean byte {value}");
        return value == 1;
    }

    /// <summary>A NUL-terminated byte string of at most <paramref name="maximumLength"/> bytes.</summary>
    public ReadOnlySpan<byte> NulTerminated(int maximumLength)
    {
        long limit = Math.Min(Remaining, maximumLength + 1L);
        var span = new ReadOnlySpan<byte>(buffer.Pointer + Position, (int)limit);
        int end = span.IndexOf((byte)0);
        if (end < 0) throw Error(Remaining <= maximumLength ? "truncated: word without its NUL terminator" : $"word longer than {maximumLength} bytes");
        Position += end + 1;
        return span[..end];
    }

    /// <summary><paramref name="count"/> little-endian floats copied into a new array.</summary>
    public float[] Floats(long count, string what)
    {
        Require(count is >= 0 and <= int.MaxValue, $"{what}: {count} values");
        var values = new float[count];
        new ReadOnlySpan<byte>(Take(count * 4, what), (int)(count * 4)).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
