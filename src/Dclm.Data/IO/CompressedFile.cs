using System.IO.Compression;
using ZstdSharp;

namespace Dclm.Data.IO;

/// <summary>Opens plain, gzip (<c>.gz</c>) and zstd (<c>.zst</c>) files by extension.</summary>
public static class CompressedFile
{
    /// <summary>A decompressing read stream for <paramref name="path"/>.</summary>
    public static Stream OpenRead(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return new GZipStream(file, CompressionMode.Decompress);
        if (path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase)) return new DecompressionStream(file);
        return file;
    }

    /// <summary>A compressing write stream over <paramref name="destination"/>, chosen by <paramref name="nameForFormat"/>'s extension.</summary>
    public static Stream WrapWrite(Stream destination, string nameForFormat)
    {
        if (nameForFormat.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return new GZipStream(destination, CompressionLevel.Optimal);
        if (nameForFormat.EndsWith(".zst", StringComparison.OrdinalIgnoreCase)) return new CompressionStream(destination, level: 3);
        return destination;
    }
}
