using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Dclm.Tensors.Compute;

namespace Dclm.Formats;

/// <summary>
/// A whole file's bytes at one address: mapped read-only, or read into private huge-page memory
/// (<see cref="FileResidence"/>). The pointer stays valid until <see cref="Dispose"/>; readers hand out
/// addresses inside it without copying, so both kinds look the same to them.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private const int MadviseHugePage = 14;
    /// <summary>Reads are this large: big enough that each costs little, small enough for any span.</summary>
    private const int ReadChunk = 64 << 20;

    private readonly MemoryMappedFile? mapping;
    private readonly MemoryMappedViewAccessor? view;
    private readonly HugePageMemory? copy;
    private bool pointerAcquired;

    /// <summary>The path as the caller named it (used in every error message).</summary>
    public string Path { get; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; }

    /// <summary>Where the bytes are held.</summary>
    public FileResidence Residence { get; }

    /// <summary>Address of byte 0 (null for an empty file).</summary>
    public byte* Pointer { get; private set; }

    private MappedFile(string path, long length, FileResidence residence, MemoryMappedFile? mapping, MemoryMappedViewAccessor? view, HugePageMemory? copy)
    {
        Path = path;
        Length = length;
        Residence = residence;
        this.mapping = mapping;
        this.view = view;
        this.copy = copy;
    }

    /// <summary>
    /// Opens <paramref name="path"/> as <see cref="Open"/> does and hands it to <paramref name="parse"/>, which keeps it in
    /// what it returns; the file is released when parsing throws.
    /// </summary>
    public static T OpenParsed<T>(string path, FileResidence residence, Action<long>? onRead, Func<MappedFile, T> parse)
    {
        ArgumentNullException.ThrowIfNull(path);
        MappedFile file = Open(path, residence, onRead);
        try
        {
            return parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> as <paramref name="residence"/> says; a copy calls <paramref name="onRead"/>
    /// with the byte count of each piece as it is read.
    /// </summary>
    public static MappedFile Open(string path, FileResidence residence = FileResidence.Mapped, Action<long>? onRead = null)
    {
        if (Directory.Exists(path)) throw new ModelFileException(path, "is a directory, expected a file");
        if (!File.Exists(path)) throw new ModelFileException(path, "file not found");
        FileStream stream;
        try
        {
            // SequentialScan: Linux reads ahead further (POSIX_FADV_SEQUENTIAL) for a copy's one pass.
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
                residence == FileResidence.Copied ? FileOptions.SequentialScan : FileOptions.None);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot open: {error.Message}", error);
        }

        long length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new MappedFile(path, 0, residence, null, null, null);
        }
        return residence == FileResidence.Copied ? Read(path, stream, length, onRead) : Map(path, stream, length);
    }

    private static MappedFile Map(string path, FileStream stream, long length)
    {
        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var file = new MappedFile(path, length, FileResidence.Mapped, mapping, view, null);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            file.pointerAcquired = true;
            file.Pointer = pointer + view.PointerOffset;
            // Pages read from disk from now on may come as 2 MB folios, mapped whole, where the kernel and
            // file system support it (Linux 6.x, ext4/xfs); pages already cached keep their size.
            if (OperatingSystem.IsLinux() && view.PointerOffset == 0) _ = Madvise((nint)pointer, (nuint)length, MadviseHugePage);
            return file;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            if (mapping is null) stream.Dispose();
            mapping?.Dispose();
            throw new ModelFileException(path, $"cannot memory-map: {error.Message}", error);
        }
    }

    /// <summary>
    /// Reads the whole file into new huge-page memory with plain reads (pread): the file's page-cache
    /// pages are never mapped into this process, so the copy is the only resident image of the file.
    /// </summary>
    private static MappedFile Read(string path, FileStream stream, long length, Action<long>? onRead)
    {
        using (stream)
        {
            HugePageMemory memory;
            try
            {
                memory = HugePageMemory.Allocate(length, populate: false);
            }
            catch (OutOfMemoryException error)
            {
                throw new ModelFileException(path, $"cannot allocate {length:N0} bytes to read the file into memory (map it instead)", error);
            }
            try
            {
                for (long offset = 0; offset < length;)
                {
                    int count = (int)Math.Min(ReadChunk, length - offset);
                    memory.Populate(offset, count);
                    for (int done = 0; done < count;)
                    {
                        int read = RandomAccess.Read(stream.SafeFileHandle, new Span<byte>(memory.Pointer + offset + done, count - done), offset + done);
                        if (read == 0) throw new ModelFileException(path, $"ended at byte {offset + done:N0} while being read, expected {length:N0} bytes (was it changed meanwhile?)");
                        done += read;
                    }
                    offset += count;
                    onRead?.Invoke(count);
                }
                return new MappedFile(path, length, FileResidence.Copied, null, null, memory) { Pointer = memory.Pointer };
            }
            catch (IOException error)
            {
                memory.Dispose();
                throw new ModelFileException(path, $"cannot read: {error.Message}", error);
            }
            catch
            {
                memory.Dispose();
                throw;
            }
        }
    }

    /// <summary>Bytes of the in-memory copy that Linux backs with 2 MB pages (0 for a mapped file).</summary>
    public long HugePageBytes => copy?.HugePageBytes() ?? 0;

    public void Dispose()
    {
        if (pointerAcquired && view is not null)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            pointerAcquired = false;
        }
        Pointer = null;
        view?.Dispose();
        mapping?.Dispose();
        copy?.Dispose();
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);
}
