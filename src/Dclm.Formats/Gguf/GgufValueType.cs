namespace Dclm.Formats.Gguf;

/// <summary>Metadata value types, numbered as the GGUF specification numbers them.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Names and sizes of <see cref="GgufValueType"/> values.</summary>
public static class GgufValueTypeInfo
{
    /// <summary>True for the thirteen types the specification defines.</summary>
    public static bool IsDefined(GgufValueType type) => (uint)type <= (uint)GgufValueType.Float64;

    /// <summary>Bytes one value takes in the file, or 0 for strings and arrays (variable size).</summary>
    public static int FixedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    /// <summary>
    /// The fewest bytes one value can take: fixed types their size, a string its 8-byte length,
    /// an array its 4-byte element type plus 8-byte count. Bounds array counts by the bytes left.
    /// </summary>
    public static int MinimumSize(GgufValueType type) => type switch
    {
        GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => FixedSize(type),
    };

    /// <summary>The lower-case name used in error messages, e.g. "uint32".</summary>
    public static string Name(GgufValueType type) =>
        IsDefined(type) ? type.ToString().ToLowerInvariant() : $"unknown type {(uint)type}";
}
