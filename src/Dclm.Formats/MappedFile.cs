using System.IO.MemoryMappedFiles;

namespace Dclm.Formats;

/// <summary>
/// A whole file mapped read-only, with a raw pointer to its first byte. The pointer stays valid
/// until <see cref="Dispose"/>; readers hand out addresses inside it without copying.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? mapping;
    private readonly MemoryMappedViewAccessor? view;
    private bool pointerAcquired;

    /// <summary>The path as the caller named it (used in every error message).</summary>
    public string Path { get; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; }

    /// <summary>Address of byte 0 (null for an empty file).</summary>
    public byte* Pointer { get; private set; }

    private MappedFile(string path, long length, MemoryMappedFile? mapping, MemoryMappedViewAccessor? view)
    {
        Path = path;
        Length = length;
        this.mapping = mapping;
        this.view = view;
    }

    public static MappedFile Open(string path)
    {
        if (Directory.Exists(path)) throw new ModelFileException(path, "is a directory, expected a file");
        if (!File.Exists(path)) throw new ModelFileException(path, "file not found");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot open: {error.Message}", error);
        }

        long length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new MappedFile(path, 0, null, null);
        }

        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var file = new MappedFile(path, length, mapping, view);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            file.pointerAcquired = true;
            file.Pointer = pointer + view.PointerOffset;
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
    }
}
