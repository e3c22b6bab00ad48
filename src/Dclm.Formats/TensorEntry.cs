using Dclm.Tensors;

namespace Dclm.Formats;

/// <summary>
/// One tensor inside a memory-mapped model file, described the same way for GGUF and safetensors.
/// <see cref="Shape"/> is row-major, outermost dimension first: a GGUF tensor stored with
/// ggml <c>ne = [columns, rows]</c> has <c>Shape = [rows, columns]</c>.
/// <see cref="Data"/> points into the file's mapping and is valid only until the file that produced
/// this entry is disposed.
/// </summary>
public readonly unsafe struct TensorEntry
{
    /// <summary>
    /// The value of <see cref="Type"/> for element types ggml has no number for (safetensors U8, BOOL,
    /// U16, U32, U64, F8_*); <see cref="GgmlTypeInfo.IsKnown"/> is false for it. <see cref="DtypeName"/>
    /// still names the stored type.
    /// </summary>
    public const GgmlType NoGgmlType = (GgmlType)uint.MaxValue;

    /// <summary>Tensor name as stored in the file.</summary>
    public string Name { get; }

    /// <summary>Element type, or <see cref="NoGgmlType"/> when ggml has no equivalent.</summary>
    public GgmlType Type { get; }

    /// <summary>The element type as the file spells it: a safetensors dtype ("BF16") or a ggml name ("q4_0").</summary>
    public string DtypeName { get; }

    /// <summary>Dimensions, row-major, outermost first. Do not modify.</summary>
    public long[] Shape { get; }

    /// <summary>Address of the first byte of the tensor's data inside the mapping.</summary>
    public byte* Data { get; }

    /// <summary>Number of bytes of data.</summary>
    public long ByteLength { get; }

    /// <summary>Creates an entry; readers validate the values before calling this.</summary>
    public TensorEntry(string name, GgmlType type, string dtypeName, long[] shape, byte* data, long byteLength)
    {
        Name = name;
        Type = type;
        DtypeName = dtypeName;
        Shape = shape;
        Data = data;
        ByteLength = byteLength;
    }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dimension in Shape) count *= dimension;
            return count;
        }
    }

    /// <summary>True when <see cref="Type"/> is a ggml type this project knows.</summary>
    public bool HasGgmlType => GgmlTypeInfo.IsKnown(Type);

    /// <summary>The data as a span; throws when the tensor is 2 GiB or larger (use <see cref="Data"/> then).</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (ByteLength > int.MaxValue)
                throw new InvalidOperationException($"tensor '{Name}' has {ByteLength} bytes, too many for one span; use Data");
            return new ReadOnlySpan<byte>(Data, (int)ByteLength);
        }
    }

    /// <summary>The data reinterpreted as <typeparamref name="T"/> values (little-endian host assumed).</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        if (ByteLength % sizeof(T) != 0)
            throw new InvalidOperationException($"tensor '{Name}' has {ByteLength} bytes, not a whole number of {sizeof(T)}-byte values");
        if (ByteLength / sizeof(T) > int.MaxValue)
            throw new InvalidOperationException($"tensor '{Name}' is too large for one span; use Data");
        return new ReadOnlySpan<T>(Data, (int)(ByteLength / sizeof(T)));
    }

    /// <summary>Shows name, dtype and shape, e.g. "w [64, 192] BF16".</summary>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}] {DtypeName}";
}
