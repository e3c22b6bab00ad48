using System.Text.Json;

namespace Dclm.Formats.Safetensors;

/// <summary>Validates one tensor's header entry: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}.</summary>
internal static unsafe class SafetensorsHeaderEntry
{
    /// <summary>More dimensions than this is certainly a corrupt header; it also bounds the shape array.</summary>
    private const int MaximumDimensions = 64;

    public static (TensorEntry Entry, long Begin, long End) Read(MappedFile file, JsonProperty property, long dataOffset, long dataLength)
    {
        string name = property.Name;
        string where = $"tensor '{Printable.Text(name)}'";
        JsonElement element = property.Value;
        if (element.ValueKind != JsonValueKind.Object)
            throw Error(file, $"{where} is a JSON {element.ValueKind}, expected an object");

        if (!element.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Error(file, $"{where} has no dtype string");
        string dtype = dtypeElement.GetString()!;
        int elementSize = SafetensorsDtype.ElementSize(dtype);
        if (elementSize == 0) throw Error(file, $"{where} has unknown dtype '{Printable.Text(dtype)}'");

        long[] shape = ReadShape(file, element, where);
        long elements = 1;
        foreach (long size in shape)
        {
            if (size != 0 && elements > long.MaxValue / size)
                throw Error(file, $"{where} shape [{string.Join(", ", shape)}] has more elements than fit in 64 bits");
            elements *= size;
        }
        if (elements > long.MaxValue / elementSize)
            throw Error(file, $"{where} shape [{string.Join(", ", shape)}] has more bytes than fit in 64 bits");
        long byteLength = elements * elementSize;

        var (begin, end) = ReadOffsets(file, element, where);
        if (begin > end)
            throw Error(file, $"{where} data_offsets [{begin}, {end}) end before they begin");
        if (end > dataLength)
            throw Error(file, $"{where} data [{dataOffset + begin}, {dataOffset + end}) lies outside the file (size {file.Length})");
        if (end - begin != byteLength)
            throw Error(file, $"{where} data_offsets [{begin}, {end}) hold {end - begin} bytes, but {dtype} shape [{string.Join(", ", shape)}] takes {byteLength}");

        var entry = new TensorEntry(name, SafetensorsDtype.ToGgmlType(dtype), dtype, shape, file.Pointer + dataOffset + begin, byteLength);
        return (entry, begin, end);
    }

    private static long[] ReadShape(MappedFile file, JsonElement element, string where)
    {
        if (!element.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error(file, $"{where} has no shape array");
        int rank = shapeElement.GetArrayLength();
        if (rank > MaximumDimensions) throw Error(file, $"{where} has {rank} dimensions, more than {MaximumDimensions}");
        var shape = new long[rank];
        int axis = 0;
        foreach (JsonElement size in shapeElement.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out long value) || value < 0)
                throw Error(file, $"{where} shape entry {axis} is {Abbreviate(size.GetRawText())}, expected a non-negative integer");
            shape[axis++] = value;
        }
        return shape;
    }

    private static (long Begin, long End) ReadOffsets(MappedFile file, JsonElement element, string where)
    {
        if (!element.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Error(file, $"{where} has no data_offsets pair");
        long begin = ReadOffset(file, offsets[0], where);
        long end = ReadOffset(file, offsets[1], where);
        return (begin, end);
    }

    private static long ReadOffset(MappedFile file, JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long offset) || offset < 0)
            throw Error(file, $"{where} data_offsets entry {Abbreviate(value.GetRawText())} is not a non-negative integer");
        return offset;
    }

    private static string Abbreviate(string text) => Printable.Text(text);

    private static ModelFileException Error(MappedFile file, string problem) => new(file.Path, problem);
}
