using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dclm.Tensors;

namespace Dclm.Formats.Safetensors;

/// <summary>
/// Writes tensors as safetensors: one file, or shards of at most a given size plus
/// <c>model.safetensors.index.json</c>, laid out as the Python library lays them out (dtype size
/// descending then name, header padded with spaces to 8 bytes, <c>__metadata__ {"format": "pt"}</c>).
/// Tensor bytes come from spans or from callbacks that stream them to disk. Every file is written to
/// "&lt;path&gt;.tmp" and renamed when complete.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly Dictionary<string, string> metadata = new(StringComparer.Ordinal) { ["format"] = "pt" };
    private readonly List<PendingTensor> tensors = [];
    private readonly HashSet<string> names = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, string Dtype, long[] Shape, long ByteLength, Action<Stream> WriteData);

    /// <summary>Number of tensors added so far.</summary>
    public int TensorCount => tensors.Count;

    /// <summary>Sets a <c>__metadata__</c> entry (replacing an earlier value of the same key).</summary>
    public void AddMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        metadata[key] = value;
    }

    /// <summary>Adds a tensor whose bytes are copied now. <paramref name="dtype"/> is a safetensors name ("F32", "BF16", ...).</summary>
    public void AddTensor(string name, string dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        long byteLength = CheckTensor(name, dtype, shape);
        if (data.Length != byteLength)
            throw new ArgumentException($"tensor '{name}' has {data.Length} bytes, its shape and dtype take {byteLength}", nameof(data));
        byte[] copy = data.ToArray();
        tensors.Add(new PendingTensor(name, dtype, shape.ToArray(), byteLength, stream => stream.Write(copy)));
        names.Add(name);
    }

    /// <summary>Adds a tensor whose bytes <paramref name="writeData"/> streams during writing; it must write exactly the expected count.</summary>
    public void AddTensor(string name, string dtype, ReadOnlySpan<long> shape, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long byteLength = CheckTensor(name, dtype, shape);
        tensors.Add(new PendingTensor(name, dtype, shape.ToArray(), byteLength, writeData));
        names.Add(name);
    }

    /// <summary>Adds a tensor of a plain ggml type (F32, F16, BF16, F64, I8..I64); quantized types are rejected.</summary>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data) =>
        AddTensor(name, DtypeOf(type), shape, data);

    /// <summary>Adds a streamed tensor of a plain ggml type.</summary>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, Action<Stream> writeData) =>
        AddTensor(name, DtypeOf(type), shape, writeData);

    private static string DtypeOf(GgmlType type) =>
        SafetensorsDtype.TryFromGgmlType(type, out string dtype) ? dtype
            : throw new ArgumentException($"safetensors cannot store ggml type {GgmlTypeInfo.Name(type)}", nameof(type));

    private long CheckTensor(string name, string dtype, ReadOnlySpan<long> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' cannot name a tensor", nameof(name));
        if (names.Contains(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        int elementSize = SafetensorsDtype.ElementSize(dtype);
        if (elementSize == 0) throw new ArgumentException($"tensor '{name}' has unknown dtype '{dtype}'", nameof(dtype));
        long elements = 1;
        foreach (long size in shape)
        {
            if (size < 0) throw new ArgumentException($"tensor '{name}' has a dimension of {size}", nameof(shape));
            elements = checked(elements * size);
        }
        return checked(elements * elementSize);
    }

    /// <summary>Writes every tensor into one file at <paramref name="path"/>.</summary>
    public void Write(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        WriteFile(path, tensors, cancellationToken);
    }

    /// <summary>
    /// Writes shards of at most <paramref name="maxShardBytes"/> of tensor data each (a larger tensor gets a
    /// shard of its own) into <paramref name="directory"/>, filling them in the order tensors were added.
    /// Several shards are named <c>model-00001-of-0000N.safetensors</c> and listed in
    /// <c>model.safetensors.index.json</c> with <c>metadata.total_size</c>; a single shard is written as
    /// <c>model.safetensors</c> without an index, as Hugging Face does. Returns the file names written.
    /// </summary>
    public IReadOnlyList<string> WriteSharded(string directory, long maxShardBytes, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxShardBytes, 0);
        Directory.CreateDirectory(directory);

        var shards = new List<List<PendingTensor>> { new() };
        long shardBytes = 0;
        foreach (PendingTensor tensor in tensors)
        {
            if (shards[^1].Count > 0 && shardBytes + tensor.ByteLength > maxShardBytes)
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(tensor);
            shardBytes += tensor.ByteLength;
        }

        if (shards.Count == 1)
        {
            WriteFile(Path.Combine(directory, SafetensorsCheckpoint.SingleFileName), shards[0], cancellationToken);
            return [SafetensorsCheckpoint.SingleFileName];
        }

        var fileNames = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int index = 0; index < shards.Count; index++)
        {
            string fileName = $"model-{index + 1:D5}-of-{shards.Count:D5}.safetensors";
            WriteFile(Path.Combine(directory, fileName), shards[index], cancellationToken);
            fileNames.Add(fileName);
            foreach (PendingTensor tensor in shards[index]) weightMap[tensor.Name] = fileName;
        }
        long totalSize = tensors.Sum(tensor => tensor.ByteLength);
        AtomicFile.Write(Path.Combine(directory, SafetensorsCheckpoint.IndexFileName), stream => WriteIndex(stream, totalSize, weightMap));
        return fileNames;
    }

    private void WriteFile(string path, List<PendingTensor> contents, CancellationToken cancellationToken)
    {
        // The Python library orders data by dtype size, largest first, so every tensor stays aligned
        // to its element size; ties are broken by name.
        List<PendingTensor> ordered = contents
            .OrderByDescending(tensor => SafetensorsDtype.ElementSize(tensor.Dtype))
            .ThenBy(tensor => tensor.Name, StringComparer.Ordinal)
            .ToList();
        byte[] header = BuildHeader(ordered);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (PendingTensor tensor in ordered)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var bounded = new BoundedWriteStream(stream, tensor.ByteLength, tensor.Name);
                tensor.WriteData(bounded);
                bounded.CheckComplete();
            }
        });
    }

    private byte[] BuildHeader(List<PendingTensor> ordered)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (PendingTensor tensor in ordered)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.Dtype);
                json.WriteStartArray("shape");
                foreach (long size in tensor.Shape) json.WriteNumberValue(size);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts on an 8-byte boundary.
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteIndex(Stream stream, long totalSize, SortedDictionary<string, string> weightMap)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteNumber("total_size", totalSize);
        json.WriteEndObject();
        json.WriteStartObject("weight_map");
        foreach (var (name, file) in weightMap) json.WriteString(name, file);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
