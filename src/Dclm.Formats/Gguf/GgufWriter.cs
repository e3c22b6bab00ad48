using System.Text;
using Dclm.Tensors;

namespace Dclm.Formats.Gguf;

/// <summary>
/// Builds a GGUF v3 file: metadata of any type, then tensors given as bytes or as a callback that
/// streams each tensor's bytes straight to disk, so converting a large model never holds it in memory.
/// Nothing touches the disk until <see cref="Write"/>, which writes "&lt;path&gt;.tmp" and renames it.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>ggml's GGML_MAX_NAME: a tensor name takes at most this many bytes, including a terminating zero.</summary>
    public const int MaximumNameBytes = 64;

    private const string AlignmentKey = "general.alignment";

    private readonly List<KeyValuePair<string, GgufValue>> metadata = [];
    private readonly HashSet<string> metadataKeys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> tensors = [];
    private readonly HashSet<string> tensorNames = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, long ByteLength, Action<Stream> WriteData);

    /// <summary>Creates a writer whose tensor data is aligned to <paramref name="alignment"/> bytes (a power of two).</summary>
    public GgufWriter(uint alignment = GgufFile.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 1 << 30)
            throw new ArgumentOutOfRangeException(nameof(alignment), $"alignment {alignment} is not a power of two");
        Alignment = alignment;
    }

    /// <summary>Tensor data alignment; written as <c>general.alignment</c> when it is not 32.</summary>
    public uint Alignment { get; private set; }

    /// <summary>Number of tensors added so far.</summary>
    public int TensorCount => tensors.Count;

    /// <summary>
    /// Adds a metadata pair. Adding <c>general.alignment</c> (a uint32 power of two) also sets
    /// <see cref="Alignment"/>, so metadata copied from another GGUF file keeps its layout.
    /// </summary>
    public void AddMetadata(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (metadataKeys.Contains(key)) throw new ArgumentException($"metadata key '{key}' was already added", nameof(key));
        if (key == AlignmentKey)
        {
            if (value.Value is not uint alignment || alignment == 0 || (alignment & (alignment - 1)) != 0)
                throw new ArgumentException($"{AlignmentKey} must be a uint32 power of two, got {value.TypeDescription} {value}", nameof(value));
            Alignment = alignment;
        }
        metadataKeys.Add(key);
        metadata.Add(new(key, value));
    }

    /// <summary>Adds a string.</summary>
    public void AddString(string key, string value) => AddMetadata(key, GgufValue.FromString(value));
    /// <summary>Adds a uint32.</summary>
    public void AddUInt32(string key, uint value) => AddMetadata(key, GgufValue.FromUInt32(value));
    /// <summary>Adds an int32.</summary>
    public void AddInt32(string key, int value) => AddMetadata(key, GgufValue.FromInt32(value));
    /// <summary>Adds a uint64.</summary>
    public void AddUInt64(string key, ulong value) => AddMetadata(key, GgufValue.FromUInt64(value));
    /// <summary>Adds an int64.</summary>
    public void AddInt64(string key, long value) => AddMetadata(key, GgufValue.FromInt64(value));
    /// <summary>Adds a float32.</summary>
    public void AddFloat32(string key, float value) => AddMetadata(key, GgufValue.FromFloat32(value));
    /// <summary>Adds a float64.</summary>
    public void AddFloat64(string key, double value) => AddMetadata(key, GgufValue.FromFloat64(value));
    /// <summary>Adds a bool.</summary>
    public void AddBool(string key, bool value) => AddMetadata(key, GgufValue.FromBool(value));
    /// <summary>Adds an array of strings (a vocabulary, merges).</summary>
    public void AddStringArray(string key, IReadOnlyList<string> values) => AddMetadata(key, GgufValue.FromStringArray(values));
    /// <summary>Adds an array of float32 (token scores).</summary>
    public void AddFloat32Array(string key, ReadOnlySpan<float> values) => AddMetadata(key, GgufValue.FromArray(values));
    /// <summary>Adds an array of int32 (token types).</summary>
    public void AddInt32Array(string key, ReadOnlySpan<int> values) => AddMetadata(key, GgufValue.FromArray(values));

    /// <summary>
    /// Adds a tensor whose bytes are copied now. <paramref name="shape"/> is row-major, outermost first;
    /// it is written as ggml's reversed <c>ne</c>.
    /// </summary>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        long byteLength = CheckTensor(name, type, shape);
        if (data.Length != byteLength)
            throw new ArgumentException($"tensor '{name}' has {data.Length} bytes, its shape and type take {byteLength}", nameof(data));
        byte[] copy = data.ToArray();
        Add(name, type, shape, byteLength, stream => stream.Write(copy));
    }

    /// <summary>
    /// Adds a tensor whose bytes <paramref name="writeData"/> writes to the given stream during
    /// <see cref="Write"/>; it must write exactly the byte count the shape and type take.
    /// </summary>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long byteLength = CheckTensor(name, type, shape);
        Add(name, type, shape, byteLength, writeData);
    }

    private void Add(string name, GgmlType type, ReadOnlySpan<long> shape, long byteLength, Action<Stream> writeData)
    {
        tensorNames.Add(name);
        tensors.Add(new PendingTensor(name, type, shape.ToArray(), byteLength, writeData));
    }

    private long CheckTensor(string name, GgmlType type, ReadOnlySpan<long> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= MaximumNameBytes)
            throw new ArgumentException($"tensor name '{name}' is {Encoding.UTF8.GetByteCount(name)} bytes; ggml allows {MaximumNameBytes - 1}", nameof(name));
        if (tensorNames.Contains(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        if (!GgmlTypeInfo.IsKnown(type)) throw new ArgumentException($"tensor '{name}' has unknown type {(uint)type}", nameof(type));
        if (shape.Length is 0 or > GgufTensorParser.MaximumDimensions)
            throw new ArgumentException($"tensor '{name}' has {shape.Length} dimensions, GGUF allows 1 to {GgufTensorParser.MaximumDimensions}", nameof(shape));
        long elements = 1;
        foreach (long size in shape)
        {
            if (size <= 0) throw new ArgumentException($"tensor '{name}' has a dimension of {size}", nameof(shape));
            elements = checked(elements * size);
        }
        int blockSize = GgmlTypeInfo.BlockSize(type);
        if (shape[^1] % blockSize != 0)
            throw new ArgumentException($"tensor '{name}' rows of {shape[^1]} are not a whole number of {GgmlTypeInfo.Name(type)} blocks of {blockSize}", nameof(shape));
        return GgmlTypeInfo.ByteCount(type, elements);
    }

    /// <summary>Writes the file to "&lt;path&gt;.tmp", then renames it to <paramref name="path"/>.</summary>
    public void Write(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream => WriteTo(stream, cancellationToken));
    }

    private void WriteTo(Stream stream, CancellationToken cancellationToken)
    {
        var pairs = new List<KeyValuePair<string, GgufValue>>(metadata);
        if (Alignment != GgufFile.DefaultAlignment && !metadataKeys.Contains(AlignmentKey))
            pairs.Add(new(AlignmentKey, GgufValue.FromUInt32(Alignment)));

        GgufValueWriter.WriteUInt32(stream, GgufFile.Magic);
        GgufValueWriter.WriteUInt32(stream, 3);
        GgufValueWriter.WriteUInt64(stream, (ulong)tensors.Count);
        GgufValueWriter.WriteUInt64(stream, (ulong)pairs.Count);
        foreach (var (key, value) in pairs)
        {
            GgufValueWriter.WriteString(stream, key);
            GgufValueWriter.WriteUInt32(stream, (uint)value.Type);
            GgufValueWriter.WriteValue(stream, value);
        }

        long offset = 0;
        foreach (PendingTensor tensor in tensors)
        {
            GgufValueWriter.WriteString(stream, tensor.Name);
            GgufValueWriter.WriteUInt32(stream, (uint)tensor.Shape.Length);
            for (int axis = tensor.Shape.Length - 1; axis >= 0; axis--)
                GgufValueWriter.WriteUInt64(stream, (ulong)tensor.Shape[axis]);
            GgufValueWriter.WriteUInt32(stream, (uint)tensor.Type);
            GgufValueWriter.WriteUInt64(stream, (ulong)offset);
            offset = GgufFile.AlignUp(offset + tensor.ByteLength, Alignment);
        }
        Pad(stream, stream.Position);

        foreach (PendingTensor tensor in tensors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var bounded = new BoundedWriteStream(stream, tensor.ByteLength, tensor.Name);
            tensor.WriteData(bounded);
            bounded.CheckComplete();
            Pad(stream, tensor.ByteLength);
        }
    }

    private void Pad(Stream stream, long written)
    {
        long padding = GgufFile.AlignUp(written, Alignment) - written;
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        while (padding > 0)
        {
            int chunk = (int)Math.Min(padding, zeros.Length);
            stream.Write(zeros[..chunk]);
            padding -= chunk;
        }
    }
}
