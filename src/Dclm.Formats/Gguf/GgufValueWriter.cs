using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Dclm.Formats.Gguf;

/// <summary>Serializes GGUF strings and metadata values, little-endian, as the specification lays them out.</summary>
internal static class GgufValueWriter
{
    public static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        stream.Write(bytes);
    }

    public static void WriteUInt64(Stream stream, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        stream.Write(bytes);
    }

    public static void WriteString(Stream stream, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        WriteUInt64(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    public static void WriteValue(Stream stream, GgufValue value)
    {
        switch (value.Value)
        {
            case byte v: stream.WriteByte(v); break;
            case sbyte v: stream.WriteByte((byte)v); break;
            case ushort v: WriteBytes(stream, v); break;
            case short v: WriteBytes(stream, v); break;
            case uint v: WriteUInt32(stream, v); break;
            case int v: WriteUInt32(stream, (uint)v); break;
            case float v: WriteUInt32(stream, BitConverter.SingleToUInt32Bits(v)); break;
            case bool v: stream.WriteByte(v ? (byte)1 : (byte)0); break;
            case string v: WriteString(stream, v); break;
            case ulong v: WriteUInt64(stream, v); break;
            case long v: WriteUInt64(stream, (ulong)v); break;
            case double v: WriteUInt64(stream, BitConverter.DoubleToUInt64Bits(v)); break;
            case Array array: WriteArray(stream, value.ElementType, array); break;
            default: throw new InvalidOperationException($"cannot serialize a {value.Value.GetType()}");
        }
    }

    private static void WriteArray(Stream stream, GgufValueType elementType, Array array)
    {
        WriteUInt32(stream, (uint)elementType);
        WriteUInt64(stream, (ulong)array.Length);
        switch (array)
        {
            case string[] strings:
                foreach (string text in strings) WriteString(stream, text);
                break;
            case GgufValue[] nested:
                foreach (GgufValue inner in nested) WriteValue(stream, inner);
                break;
            case bool[] flags:
                foreach (bool flag in flags) stream.WriteByte(flag ? (byte)1 : (byte)0);
                break;
            case byte[] v: stream.Write(v); break;
            case sbyte[] v: WriteRaw(stream, v); break;
            case ushort[] v: WriteRaw(stream, v); break;
            case short[] v: WriteRaw(stream, v); break;
            case uint[] v: WriteRaw(stream, v); break;
            case int[] v: WriteRaw(stream, v); break;
            case float[] v: WriteRaw(stream, v); break;
            case ulong[] v: WriteRaw(stream, v); break;
            case long[] v: WriteRaw(stream, v); break;
            case double[] v: WriteRaw(stream, v); break;
            default: throw new InvalidOperationException($"cannot serialize a {array.GetType()}");
        }
    }

    // GGUF is little-endian, as is every host .NET runs this project on.
    private static void WriteRaw<T>(Stream stream, T[] values) where T : unmanaged =>
        stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));

    private static void WriteBytes<T>(Stream stream, T value) where T : unmanaged =>
        stream.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
}
