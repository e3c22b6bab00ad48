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

    /// <summary>
    /// A compressing write stream over <paramref name="destination"/>, chosen by <paramref name="nameForFormat"/>'s
    /// extension; <paramref name="fast"/> trades size for speed (zstd level 1, gzip fastest) for intermediate files.
    /// </summary>
    public static Stream WrapWrite(Stream destination, string nameForFormat, bool fast = false)
    {
        if (nameForFormat.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return new GZipStream(destination, fast ? CompressionLevel.Fastest : CompressionLevel.Optimal);
        if (nameForFormat.EndsWith(".zst", StringComparison.OrdinalIgnoreCase)) return new CompressionStream(destination, level: fast ? 1 : 3);
        return destination;
    }
}
