namespace Dclm.Formats;

/// <summary>Where an opened model file's bytes are held while it is in use.</summary>
public enum FileResidence
{
    /// <summary>
    /// Mapped read-only and used in place: loads at once and shares the page cache, but decode then walks
    /// the page cache's pages, which on some machines is many times slower (docs/benchmarks.md).
    /// </summary>
    Mapped,
    /// <summary>Read into private memory backed by 2 MB pages where Linux grants them (llama.cpp's --no-mmap).</summary>
    Copied,
}
