using Dclm.Formats;

namespace Dclm.Rag.Indexing;

/// <summary>
/// An index is a folder of generations: <c>g000001/</c>, <c>g000002/</c>, ... each complete in itself
/// (manifest.json, chunks.jsonl, vectors.bin, windows.bin, hnsw.bin, lucene/), and a file <c>CURRENT</c> naming the
/// one in use. A build writes a new generation and only then replaces CURRENT (write to a temporary
/// file, flush, rename), so a crash at any moment leaves the previous generation in use; leftovers of
/// an interrupted build are removed by the next one.
/// </summary>
internal static class IndexLayout
{
    public const string CurrentFile = "CURRENT", LockFile = ".lock";
    public const string Manifest = "manifest.json", Chunks = "chunks.jsonl", Vectors = "vectors.bin", Windows = "windows.bin", Graph = "hnsw.bin", Lexical = "lucene";

    /// <summary>The generation CURRENT names, or null when the folder holds no finished index.</summary>
    public static string? CurrentGeneration(string index)
    {
        string pointer = Path.Combine(index, CurrentFile);
        if (!File.Exists(pointer)) return null;
        string name = File.ReadAllText(pointer).Trim();
        if (!IsGenerationName(name)) throw new InvalidDataException($"{pointer}: names \"{name}\", not a generation");
        string folder = Path.Combine(index, name);
        return Directory.Exists(folder) ? folder : throw new InvalidDataException($"{pointer}: names {name}, which is missing");
    }

    /// <summary>A new, empty generation folder numbered after every existing one.</summary>
    public static string CreateGeneration(string index)
    {
        int next = Generations(index).Select(g => int.Parse(Path.GetFileName(g)[1..])).DefaultIfEmpty(0).Max() + 1;
        string folder = Path.Combine(index, $"g{next:D6}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Makes <paramref name="generation"/> the one in use, then removes every other generation.</summary>
    public static void Publish(string index, string generation)
    {
        AtomicFile.Write(Path.Combine(index, CurrentFile), stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(generation) + "\n")));
        RemoveAllBut(index, generation);
    }

    /// <summary>Deletes the generations other than <paramref name="keep"/> (old ones, or leftovers of a killed build).</summary>
    public static void RemoveAllBut(string index, string? keep)
    {
        foreach (var folder in Generations(index))
            if (keep is null || !string.Equals(Path.GetFullPath(folder), Path.GetFullPath(keep), StringComparison.Ordinal))
            {
                try { Directory.Delete(folder, recursive: true); }
                catch (IOException) { } // a reader on a system that locks open files; the next build retries
                catch (UnauthorizedAccessException) { }
            }
    }

    /// <summary>Takes the index's writer lock; a second build of the same index fails at once with a clear error.</summary>
    public static FileStream Lock(string index)
    {
        try
        {
            return new FileStream(Path.Combine(index, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException error)
        {
            throw new IOException($"{index}: another build is writing this index ({error.Message})", error);
        }
    }

    private static IEnumerable<string> Generations(string index) =>
        Directory.Exists(index) ? Directory.EnumerateDirectories(index).Where(d => IsGenerationName(Path.GetFileName(d))) : [];

    private static bool IsGenerationName(string name) => name.Length == 7 && name[0] == 'g' && name.Skip(1).All(char.IsAsciiDigit);
}
