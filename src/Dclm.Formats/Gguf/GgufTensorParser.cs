using Dclm.Tensors;

namespace Dclm.Formats.Gguf;

/// <summary>
/// Parses the GGUF tensor-info table and places each tensor in the data section, checking type,
/// dimensions, byte counts, alignment, bounds and overlap before anything points into the file.
/// </summary>
internal static unsafe class GgufTensorParser
{
    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaximumDimensions = 4;

    public static List<GgufTensorInfo> ReadInfos(GgufCursor cursor, ulong count)
    {
        // An info takes at least: name length 8 + 1 byte, n_dims 4, one dimension 8, type 4, offset 8.
        const int minimumInfoBytes = 33;
        if (count > (ulong)(cursor.Remaining / minimumInfoBytes))
            throw cursor.Error($"tensor count {count} cannot fit in the {cursor.Remaining} bytes left in the file");

        var infos = new List<GgufTensorInfo>((int)Math.Min(count, GgufMetadataParser.InitialCapacity));
        for (ulong index = 0; index < count; index++)
        {
            string name = cursor.ReadString($"tensor info {index} name");
            if (name.Length == 0) throw cursor.Error($"tensor info {index} has an empty name");
            string where = $"tensor '{Printable.Text(name)}'";

            uint dimensionCount = cursor.ReadUInt32(where + " dimension count");
            if (dimensionCount is 0 or > MaximumDimensions)
                throw cursor.Error($"{where} has {dimensionCount} dimensions, expected 1 to {MaximumDimensions}");

            // ggml lists ne innermost first; the shape is row-major, outermost first.
            var shape = new long[dimensionCount];
            long elements = 1;
            for (int axis = 0; axis < dimensionCount; axis++)
            {
                ulong size = cursor.ReadUInt64(where + " dimension");
                if (size == 0 || size > long.MaxValue)
                    throw cursor.Error($"{where} dimension {axis} is {(long)size}, expected a positive size");
                shape[dimensionCount - 1 - axis] = (long)size;
                if (elements > long.MaxValue / (long)size)
                    throw cursor.Error($"{where} has more elements than fit in 64 bits");
                elements *= (long)size;
            }

            uint rawType = cursor.ReadUInt32(where + " type");
            var type = (GgmlType)rawType;
            if (!GgmlTypeInfo.IsKnown(type))
                throw cursor.Error($"{where} has unknown ggml type {rawType}");
            long innermost = shape[^1];
            int blockSize = GgmlTypeInfo.BlockSize(type);
            if (innermost % blockSize != 0)
                throw cursor.Error($"{where} rows of {innermost} elements are not a whole number of {GgmlTypeInfo.Name(type)} blocks of {blockSize}");
            long byteLength = GgmlTypeInfo.ByteCount(type, elements);
            if (byteLength < 0)
                throw cursor.Error($"{where} has {elements} elements, not a whole number of {GgmlTypeInfo.Name(type)} blocks");

            ulong offset = cursor.ReadUInt64(where + " offset");
            infos.Add(new GgufTensorInfo(name, type, shape, offset, byteLength));
        }
        return infos;
    }

    /// <summary>
    /// Checks every tensor's offset against alignment, the file and the layout of the data section,
    /// then builds the entries in file order.
    /// </summary>
    public static Dictionary<string, TensorEntry> Place(
        MappedFile file, List<GgufTensorInfo> infos,
        long dataOffset, uint alignment)
    {
        var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        foreach (var info in infos)
        {
            string where = $"tensor '{Printable.Text(info.Name)}'";
            if (info.Offset % alignment != 0)
                throw new ModelFileException(file.Path, $"{where} offset {info.Offset} is not a multiple of the alignment {alignment}");
            // Compare in unsigned space first so that a huge offset cannot overflow the sum.
            ulong start = (ulong)dataOffset + info.Offset;
            ulong end = start + (ulong)info.ByteLength;
            if (info.Offset > (ulong)file.Length || start > (ulong)file.Length || end > (ulong)file.Length)
                throw new ModelFileException(file.Path, $"{where} data [{start}, {end}) lies outside the file (size {file.Length})");
            var entry = new TensorEntry(info.Name, info.Type, GgmlTypeInfo.Name(info.Type), info.Shape,
                file.Pointer + (long)start, info.ByteLength);
            if (!tensors.TryAdd(info.Name, entry))
                throw new ModelFileException(file.Path, $"tensor name '{Printable.Text(info.Name)}' appears twice");
        }

        CheckLayout(file, infos, dataOffset, alignment);
        return tensors;
    }

    /// <summary>
    /// llama.cpp's rule (gguf.cpp): tensor data follows in the order of the info table, each tensor padded to
    /// the alignment, so tensor i starts where the padded sizes of the tensors before it end. The file ends
    /// after the last tensor, with or without its padding; anything more is not part of the model.
    /// </summary>
    private static void CheckLayout(MappedFile file, List<GgufTensorInfo> infos, long dataOffset, uint alignment)
    {
        ulong expected = 0;
        foreach (var info in infos)
        {
            if (info.Offset != expected)
                throw new ModelFileException(file.Path,
                    $"tensor '{Printable.Text(info.Name)}' data starts at offset {info.Offset}, expected {expected}: tensor data must follow in table order, each tensor padded to the alignment {alignment}");
            expected = (ulong)GgufFile.AlignUp((long)expected + info.ByteLength, alignment);
        }
        // Every tensor already lies inside the file; without tensors the header may still be padded to the alignment.
        long largest = dataOffset + (long)expected;
        long extra = file.Length - largest;
        if (extra > 0)
            throw new ModelFileException(file.Path,
                $"{extra} {(extra == 1 ? "byte follows" : "bytes follow")} the end of the tensor data at offset {largest}; a GGUF file ends with its last tensor");
    }
}

/// <summary>One row of the tensor-info table: offset relative to the data section, shape row-major.</summary>
internal readonly record struct GgufTensorInfo(string Name, GgmlType Type, long[] Shape, ulong Offset, long ByteLength);
