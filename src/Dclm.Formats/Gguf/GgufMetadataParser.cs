namespace Dclm.Formats.Gguf;

/// <summary>
/// Parses GGUF metadata key/value pairs. Every count is checked against the bytes left before any
/// array is allocated, so a lying count fails fast instead of allocating.
/// </summary>
internal static class GgufMetadataParser
{
    /// <summary>Arrays of arrays deeper than this are rejected (real files use none; this bounds recursion).</summary>
    private const int MaximumNesting = 8;

    /// <summary>
    /// Collections whose count comes from the file start no larger than this and grow as elements are
    /// actually read, so a count that lies within a large file cannot allocate ahead of the data.
    /// </summary>
    internal const int InitialCapacity = 1 << 16;

    public static Dictionary<string, GgufValue> ReadAll(GgufCursor cursor, ulong count)
    {
        // A pair takes at least an 8-byte key length, a 4-byte type and a 1-byte value.
        const int minimumPairBytes = 13;
        if (count > (ulong)(cursor.Remaining / minimumPairBytes))
            throw cursor.Error($"metadata count {count} cannot fit in the {cursor.Remaining} bytes left in the file");

        // Capacity is capped: a lying count in a multi-gigabyte file still passes the bound above.
        var metadata = new Dictionary<string, GgufValue>((int)Math.Min(count, InitialCapacity), StringComparer.Ordinal);
        for (ulong index = 0; index < count; index++)
        {
            string key = cursor.ReadString($"metadata key {index}");
            if (key.Length == 0) throw cursor.Error($"metadata key {index} is empty");
            string where = $"metadata '{Printable.Text(key)}'";
            var type = (GgufValueType)cursor.ReadUInt32(where + " type");
            GgufValue value = ReadValue(cursor, type, where, depth: 0);
            if (!metadata.TryAdd(key, value))
                throw cursor.Error($"metadata key '{Printable.Text(key)}' appears twice");
        }
        return metadata;
    }

    private static GgufValue ReadValue(GgufCursor cursor, GgufValueType type, string where, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.Scalar(type, cursor.ReadByte(where));
            case GgufValueType.Int8: return GgufValue.Scalar(type, (sbyte)cursor.ReadByte(where));
            case GgufValueType.UInt16: return GgufValue.Scalar(type, cursor.ReadArray<ushort>(1, where)[0]);
            case GgufValueType.Int16: return GgufValue.Scalar(type, cursor.ReadArray<short>(1, where)[0]);
            case GgufValueType.UInt32: return GgufValue.Scalar(type, cursor.ReadUInt32(where));
            case GgufValueType.Int32: return GgufValue.Scalar(type, (int)cursor.ReadUInt32(where));
            case GgufValueType.Float32: return GgufValue.Scalar(type, BitConverter.UInt32BitsToSingle(cursor.ReadUInt32(where)));
            case GgufValueType.Bool: return GgufValue.Scalar(type, ReadBool(cursor, where));
            case GgufValueType.String: return GgufValue.Scalar(type, cursor.ReadString(where));
            case GgufValueType.UInt64: return GgufValue.Scalar(type, cursor.ReadUInt64(where));
            case GgufValueType.Int64: return GgufValue.Scalar(type, (long)cursor.ReadUInt64(where));
            case GgufValueType.Float64: return GgufValue.Scalar(type, BitConverter.UInt64BitsToDouble(cursor.ReadUInt64(where)));
            case GgufValueType.Array: return ReadArray(cursor, where, depth);
            default: throw cursor.Error($"{where} has unknown value type {(uint)type}");
        }
    }

    private static bool ReadBool(GgufCursor cursor, string where)
    {
        byte raw = cursor.ReadByte(where);
        if (raw > 1) throw cursor.Error($"{where}: bool byte is {raw}, expected 0 or 1");
        return raw == 1;
    }

    private static GgufValue ReadArray(GgufCursor cursor, string where, int depth)
    {
        if (depth >= MaximumNesting) throw cursor.Error($"{where}: arrays nested deeper than {MaximumNesting}");
        var elementType = (GgufValueType)cursor.ReadUInt32(where + " array element type");
        if (!GgufValueTypeInfo.IsDefined(elementType))
            throw cursor.Error($"{where}: array has unknown element type {(uint)elementType}");
        ulong count = cursor.ReadUInt64(where + " array length");
        int minimumSize = GgufValueTypeInfo.MinimumSize(elementType);
        if (count > (ulong)(cursor.Remaining / minimumSize))
            throw cursor.Error($"{where}: array length {count} of {GgufValueTypeInfo.Name(elementType)} cannot fit in the {cursor.Remaining} bytes left in the file");
        if (count > int.MaxValue)
            throw cursor.Error($"{where}: array length {count} is too large");
        int length = (int)count;

        Array values = elementType switch
        {
            GgufValueType.UInt8 => cursor.ReadArray<byte>(length, where),
            GgufValueType.Int8 => cursor.ReadArray<sbyte>(length, where),
            GgufValueType.UInt16 => cursor.ReadArray<ushort>(length, where),
            GgufValueType.Int16 => cursor.ReadArray<short>(length, where),
            GgufValueType.UInt32 => cursor.ReadArray<uint>(length, where),
            GgufValueType.Int32 => cursor.ReadArray<int>(length, where),
            GgufValueType.Float32 => cursor.ReadArray<float>(length, where),
            GgufValueType.UInt64 => cursor.ReadArray<ulong>(length, where),
            GgufValueType.Int64 => cursor.ReadArray<long>(length, where),
            GgufValueType.Float64 => cursor.ReadArray<double>(length, where),
            GgufValueType.Bool => ReadBoolArray(cursor, length, where),
            GgufValueType.String => ReadStringArray(cursor, length, where),
            _ => ReadNestedArray(cursor, length, where, depth),
        };
        return GgufValue.WrapArray(elementType, values);
    }

    private static bool[] ReadBoolArray(GgufCursor cursor, int length, string where)
    {
        byte[] raw = cursor.ReadArray<byte>(length, where);
        var values = new bool[length];
        for (int index = 0; index < length; index++)
        {
            if (raw[index] > 1) throw cursor.Error($"{where}: bool element {index} is {raw[index]}, expected 0 or 1");
            values[index] = raw[index] == 1;
        }
        return values;
    }

    private static string[] ReadStringArray(GgufCursor cursor, int length, string where)
    {
        var values = new List<string>(Math.Min(length, InitialCapacity));
        for (int index = 0; index < length; index++)
            values.Add(cursor.ReadString(where));
        return values.ToArray();
    }

    private static GgufValue[] ReadNestedArray(GgufCursor cursor, int length, string where, int depth)
    {
        var values = new List<GgufValue>(Math.Min(length, InitialCapacity));
        for (int index = 0; index < length; index++)
            values.Add(ReadArray(cursor, where, depth + 1));
        return values.ToArray();
    }
}
