using System.Runtime.InteropServices;

namespace Dclm.Rag.Dense;

/// <summary>
/// Which vectors belong to which chunk. A chunk is embedded as one or more windows short enough for the
/// encoder to read whole (and close to the length it was trained on); the windows of chunk c are the
/// consecutive vectors [First(c), First(c + 1)). A chunk's similarity to a query is its best window's
/// (max-sim), so a sentence anywhere in a long chunk can find it.
/// On disk: "DWIN", version, chunk count (int32 each), then chunk count + 1 int32 offsets, little-endian.
/// </summary>
public sealed class ChunkWindows
{
    private const uint Magic = 0x4E495744; // "DWIN"
    private const int FormatVersion = 1;
    // firstWindow[c] = id of chunk c's first vector; firstWindow[chunks] = vector count.
    private readonly int[] firstWindow;
    // chunkOf[v] = the chunk that vector v belongs to.
    private readonly int[] chunkOf;

    /// <summary>Chunk c owns <paramref name="windowCounts"/>[c] (at least 1) consecutive vectors, in chunk order.</summary>
    public ChunkWindows(IReadOnlyList<int> windowCounts) : this(Offsets(windowCounts)) { }

    private ChunkWindows(int[] firstWindow)
    {
        this.firstWindow = firstWindow;
        chunkOf = new int[firstWindow[^1]];
        for (int c = 0; c < firstWindow.Length - 1; c++) chunkOf.AsSpan(firstWindow[c], firstWindow[c + 1] - firstWindow[c]).Fill(c);
    }

    /// <summary>Number of chunks.</summary>
    public int Chunks => firstWindow.Length - 1;

    /// <summary>Number of vectors (windows of all chunks).</summary>
    public int Vectors => firstWindow[^1];

    /// <summary>The chunk that vector <paramref name="vector"/> belongs to.</summary>
    public int ChunkOf(int vector) => chunkOf[vector];

    /// <summary>Chunk <paramref name="chunk"/>'s vectors as (first, count).</summary>
    public (int First, int Count) WindowsOf(int chunk) => (firstWindow[chunk], firstWindow[chunk + 1] - firstWindow[chunk]);

    /// <summary>max over chunk <paramref name="chunk"/>'s windows w of cos(w, <paramref name="query"/>) (unit vectors).</summary>
    public float Similarity(VectorSet vectors, int chunk, ReadOnlySpan<float> query)
    {
        var (first, count) = WindowsOf(chunk);
        float best = float.NegativeInfinity;
        for (int w = first; w < first + count; w++) best = Math.Max(best, vectors.Similarity(w, query));
        return best;
    }

    /// <summary>
    /// Turns a ranking of vectors (best first) into a ranking of chunks, each scored by its best window, keeping
    /// the first <paramref name="count"/> chunks.
    /// </summary>
    public List<(int Id, float Score)> BestChunks(IReadOnlyList<(int Id, float Score)> vectorRanking, int count)
    {
        var seen = new HashSet<int>();
        var chunks = new List<(int Id, float Score)>(count);
        foreach (var (vector, score) in vectorRanking)
        {
            if (chunks.Count == count) break;
            if (seen.Add(chunkOf[vector])) chunks.Add((chunkOf[vector], score));
        }
        return chunks;
    }

    /// <summary>Writes the map to <paramref name="stream"/>.</summary>
    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Chunks);
        writer.Write(MemoryMarshal.AsBytes(firstWindow.AsSpan()));
    }

    /// <summary>Reads a map written by <see cref="Write"/>; a damaged file throws <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static ChunkWindows Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length < 12 || reader.ReadUInt32() != Magic) throw new InvalidDataException($"{path}: not a window file");
        int version = reader.ReadInt32(), chunks = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"{path}: window format {version}, this build reads {FormatVersion}");
        if (chunks < 0 || stream.Length != 12 + (chunks + 1L) * sizeof(int)) throw new InvalidDataException($"{path}: {chunks} chunks do not match the file's {stream.Length} bytes");
        var offsets = new int[chunks + 1];
        stream.ReadExactly(MemoryMarshal.AsBytes(offsets.AsSpan()));
        if (offsets[0] != 0) throw new InvalidDataException($"{path}: the first chunk's windows start at {offsets[0]}, not 0");
        for (int c = 0; c < chunks; c++)
            if (offsets[c + 1] <= offsets[c]) throw new InvalidDataException($"{path}: chunk {c} has no window");
        return new ChunkWindows(offsets);
    }

    private static int[] Offsets(IReadOnlyList<int> windowCounts)
    {
        var offsets = new int[windowCounts.Count + 1];
        for (int c = 0; c < windowCounts.Count; c++)
        {
            if (windowCounts[c] < 1) throw new ArgumentException($"chunk {c} has {windowCounts[c]} windows; every chunk needs at least one", nameof(windowCounts));
            offsets[c + 1] = checked(offsets[c] + windowCounts[c]);
        }
        return offsets;
    }
}
