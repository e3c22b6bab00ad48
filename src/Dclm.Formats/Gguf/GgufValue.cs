namespace Dclm.Formats.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or an array of one element type. Arrays are held as
/// typed .NET arrays (<c>string[]</c>, <c>float[]</c>, <c>int[]</c>, ..., <see cref="GgufValue"/>[] for
/// nested arrays) so that vocabularies load and convert without boxing per element.
/// </summary>
public sealed class GgufValue
{
    private readonly object value;

    /// <summary>The value's type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For an array, the type of its elements; equal to <see cref="Type"/> otherwise.</summary>
    public GgufValueType ElementType { get; }

    private GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        this.value = value;
    }

    /// <summary>
    /// The stored value: a boxed scalar (<c>byte</c>, <c>sbyte</c>, <c>ushort</c>, <c>short</c>, <c>uint</c>,
    /// <c>int</c>, <c>float</c>, <c>bool</c>, <c>ulong</c>, <c>long</c>, <c>double</c>), a <c>string</c>, or a
    /// typed array of those (nested arrays as <see cref="GgufValue"/>[]). Do not modify arrays.
    /// </summary>
    public object Value => value;

    /// <summary>True for <see cref="GgufValueType.Array"/>.</summary>
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array, 0 for a scalar.</summary>
    public int ArrayLength => value is Array array && IsArray ? array.Length : 0;

    /// <summary>Describes the type for messages, e.g. "uint32" or "array of string".</summary>
    public string TypeDescription => IsArray
        ? $"array of {GgufValueTypeInfo.Name(ElementType)}"
        : GgufValueTypeInfo.Name(Type);

    /// <summary>Creates a uint8 value.</summary>
    public static GgufValue FromUInt8(byte value) => Scalar(GgufValueType.UInt8, value);
    /// <summary>Creates an int8 value.</summary>
    public static GgufValue FromInt8(sbyte value) => Scalar(GgufValueType.Int8, value);
    /// <summary>Creates a uint16 value.</summary>
    public static GgufValue FromUInt16(ushort value) => Scalar(GgufValueType.UInt16, value);
    /// <summary>Creates an int16 value.</summary>
    public static GgufValue FromInt16(short value) => Scalar(GgufValueType.Int16, value);
    /// <summary>Creates a uint32 value.</summary>
    public static GgufValue FromUInt32(uint value) => Scalar(GgufValueType.UInt32, value);
    /// <summary>Creates an int32 value.</summary>
    public static GgufValue FromInt32(int value) => Scalar(GgufValueType.Int32, value);
    /// <summary>Creates a float32 value.</summary>
    public static GgufValue FromFloat32(float value) => Scalar(GgufValueType.Float32, value);
    /// <summary>Creates a bool value.</summary>
    public static GgufValue FromBool(bool value) => Scalar(GgufValueType.Bool, value);
    /// <summary>Creates a uint64 value.</summary>
    public static GgufValue FromUInt64(ulong value) => Scalar(GgufValueType.UInt64, value);
    /// <summary>Creates an int64 value.</summary>
    public static GgufValue FromInt64(long value) => Scalar(GgufValueType.Int64, value);
    /// <summary>Creates a float64 value.</summary>
    public static GgufValue FromFloat64(double value) => Scalar(GgufValueType.Float64, value);

    /// <summary>Creates a string value.</summary>
    public static GgufValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Scalar(GgufValueType.String, value);
    }

    /// <summary>Creates an array of uint8 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<byte> values) => WrapArray(GgufValueType.UInt8, values.ToArray());
    /// <summary>Creates an array of int8 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<sbyte> values) => WrapArray(GgufValueType.Int8, values.ToArray());
    /// <summary>Creates an array of uint16 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<ushort> values) => WrapArray(GgufValueType.UInt16, values.ToArray());
    /// <summary>Creates an array of int16 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<short> values) => WrapArray(GgufValueType.Int16, values.ToArray());
    /// <summary>Creates an array of uint32 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<uint> values) => WrapArray(GgufValueType.UInt32, values.ToArray());
    /// <summary>Creates an array of int32 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<int> values) => WrapArray(GgufValueType.Int32, values.ToArray());
    /// <summary>Creates an array of float32 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<float> values) => WrapArray(GgufValueType.Float32, values.ToArray());
    /// <summary>Creates an array of bool (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<bool> values) => WrapArray(GgufValueType.Bool, values.ToArray());
    /// <summary>Creates an array of uint64 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<ulong> values) => WrapArray(GgufValueType.UInt64, values.ToArray());
    /// <summary>Creates an array of int64 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<long> values) => WrapArray(GgufValueType.Int64, values.ToArray());
    /// <summary>Creates an array of float64 (copies the values).</summary>
    public static GgufValue FromArray(ReadOnlySpan<double> values) => WrapArray(GgufValueType.Float64, values.ToArray());

    /// <summary>Creates an array of strings (copies the list; null entries are rejected).</summary>
    public static GgufValue FromStringArray(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = new string[values.Count];
        for (int index = 0; index < copy.Length; index++)
            copy[index] = values[index] ?? throw new ArgumentException($"string array element {index} is null", nameof(values));
        return WrapArray(GgufValueType.String, copy);
    }

    /// <summary>Creates an array of arrays; every element must itself be an array value.</summary>
    public static GgufValue FromNestedArray(IReadOnlyList<GgufValue> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        var copy = new GgufValue[arrays.Count];
        for (int index = 0; index < copy.Length; index++)
        {
            GgufValue element = arrays[index] ?? throw new ArgumentException($"nested array element {index} is null", nameof(arrays));
            if (!element.IsArray) throw new ArgumentException($"nested array element {index} is a {element.TypeDescription}, not an array", nameof(arrays));
            copy[index] = element;
        }
        return WrapArray(GgufValueType.Array, copy);
    }

    /// <summary>Wraps an array the reader built; the caller gives up ownership.</summary>
    internal static GgufValue WrapArray(GgufValueType elementType, Array values) => new(GgufValueType.Array, elementType, values);

    internal static GgufValue Scalar(GgufValueType type, object value) => new(type, type, value);

    /// <summary>
    /// Reads an integer scalar of any width as <c>long</c>; false for non-integers and for a uint64 above
    /// <see cref="long.MaxValue"/>.
    /// </summary>
    public bool TryGetInt64(out long result)
    {
        switch (value)
        {
            case byte v: result = v; return true;
            case sbyte v: result = v; return true;
            case ushort v: result = v; return true;
            case short v: result = v; return true;
            case uint v: result = v; return true;
            case int v: result = v; return true;
            case long v: result = v; return true;
            case ulong v when v <= long.MaxValue: result = (long)v; return true;
            default: result = 0; return false;
        }
    }

    /// <summary>Reads a float32, float64 or integer scalar as <c>double</c>.</summary>
    public bool TryGetFloat64(out double result)
    {
        switch (value)
        {
            case float v: result = v; return true;
            case double v: result = v; return true;
            case ulong v: result = v; return true;
            default:
                bool isInteger = TryGetInt64(out long integer);
                result = integer;
                return isInteger;
        }
    }

    /// <summary>Shows the value for diagnostics; long arrays are abbreviated.</summary>
    public override string ToString()
    {
        if (!IsArray) return value is string text ? $"\"{text}\"" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        var array = (Array)value;
        var shown = new List<string>();
        for (int index = 0; index < Math.Min(array.Length, 8); index++)
            shown.Add(Convert.ToString(array.GetValue(index), System.Globalization.CultureInfo.InvariantCulture) ?? "");
        string more = array.Length > 8 ? $", ... ({array.Length} in all)" : "";
        return $"[{string.Join(", ", shown)}{more}]";
    }
}
