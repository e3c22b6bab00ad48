using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Dclm.Rag.Dense;

/// <summary>
/// Unit-length vectors, (count, dimensions) row-major, compared by dot product (cosine similarity).
/// On disk: "DVEC", version, count, dimensions (int32 each), then the floats, little-endian.
/// </summary>
public sealed class VectorSet
{
    private const uint Magic = 0x43455644; // "DVEC"
    private const int FormatVersion = 1;

    /// <summary>Wraps <paramref name="values"/> (count × dimensions floats).</summary>
    public VectorSet(float[] values, int dimensions)
    {
        if (dimensions <= 0 || values.Length % dimensions != 0) throw new ArgumentException($"{values.Length} values are not whole vectors of {dimensions}");
        Values = values;
        Dimensions = dimensions;
    }

    /// <summary>(count, dimensions)</summary>
    public float[] Values { get; }
    /// <summary>Length of each vector.</summary>
    public int Dimensions { get; }
    /// <summary>Number of vectors.</summary>
    public int Count => Values.Length / Dimensions;

    /// <summary>Vector <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => Values.AsSpan(index * Dimensions, Dimensions);

    /// <summary>Cosine similarity of vector <paramref name="index"/> with <paramref name="query"/> (unit length).</summary>
    public float Similarity(int index, ReadOnlySpan<float> query) => TensorPrimitives.Dot(this[index], query);

    /// <summary>Writes the set to <paramref name="stream"/>.</summary>
    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Count);
        writer.Write(Dimensions);
        writer.Write(MemoryMarshal.AsBytes(Values.AsSpan()));
    }

    /// <summary>Reads a set written by <see cref="Write"/>; a damaged file throws <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static VectorSet Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length < 16 || reader.ReadUInt32() != Magic) throw new InvalidDataException($"{path}: not a vector file");
        int version = reader.ReadInt32(), count = reader.ReadInt32(), dimensions = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"{path}: vector format {version}, this build reads {FormatVersion}");
        if (count < 0 || dimensions <= 0 || stream.Length != 16 + (long)count * dimensions * sizeof(float))
            throw new InvalidDataException($"{path}: {count} vectors of {dimensions} do not match the file's {stream.Length} bytes");
        var values = new float[(long)count * dimensions];
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return new VectorSet(values, dimensions);
    }

    /// <summary>The exact best <paramref name="count"/> vectors for <paramref name="query"/>, best first (the reference for recall).</summary>
    public IReadOnlyList<(int Id, float Score)> ExactSearch(ReadOnlySpan<float> query, int count)
    {
        var best = new PriorityQueue<int, float>(count + 1);
        for (int i = 0; i < Count; i++)
        {
            float score = Similarity(i, query);
            if (best.Count < count) best.Enqueue(i, score);
            else if (count > 0 && score > LowestScore(best)) { best.Dequeue(); best.Enqueue(i, score); }
        }
        var result = new List<(int, float)>(best.Count);
        while (best.TryDequeue(out int id, out float score)) result.Add((id, score));
        result.Reverse();
        return result;
    }

    private static float LowestScore(PriorityQueue<int, float> queue)
    {
        queue.TryPeek(out _, out float score);
        return score;
    }
}
