namespace Dclm.Tensors;

/// <summary>
/// Element types of tensors, numbered exactly as ggml numbers them so that the value can be
/// written to and read from GGUF files unchanged.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
}

/// <summary>Block geometry of each <see cref="GgmlType"/>: how many elements share one block and its size in bytes.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Elements per block (1 for plain scalar types).</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1 => 32,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => 256,
        _ => 1,
    };

    /// <summary>Bytes per block, or -1 for a type this project does not know.</summary>
    public static int BlockBytes(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 => 2,
        GgmlType.BF16 => 2,
        GgmlType.F64 => 8,
        GgmlType.I8 => 1,
        GgmlType.I16 => 2,
        GgmlType.I32 => 4,
        GgmlType.I64 => 8,
        GgmlType.Q4_0 => 18,   // f16 d + 16 bytes of nibbles
        GgmlType.Q4_1 => 20,   // f16 d, f16 m + 16 bytes
        GgmlType.Q5_0 => 22,   // f16 d + u32 high bits + 16 bytes
        GgmlType.Q5_1 => 24,
        GgmlType.Q8_0 => 34,   // f16 d + 32 int8
        GgmlType.Q8_1 => 36,   // f16 d, f16 s + 32 int8
        GgmlType.Q2_K => 84,
        GgmlType.Q3_K => 110,
        GgmlType.Q4_K => 144,  // f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles
        GgmlType.Q5_K => 176,
        GgmlType.Q6_K => 210,  // 128 ql, 64 qh, 16 int8 scales, f16 d
        GgmlType.Q8_K => 292,  // f32 d, 256 int8, 16 int16 bsums
        _ => -1,
    };

    /// <summary>True when this project knows the type's layout.</summary>
    public static bool IsKnown(GgmlType type) => BlockBytes(type) > 0;

    /// <summary>
    /// Bytes taken by <paramref name="elements"/> values of <paramref name="type"/>, or -1 when the
    /// count is not a whole number of blocks or the type is unknown.
    /// </summary>
    public static long ByteCount(GgmlType type, long elements)
    {
        int block = BlockSize(type);
        int bytes = BlockBytes(type);
        if (bytes <= 0 || elements < 0 || elements % block != 0) return -1;
        return elements / block * bytes;
    }

    /// <summary>The lower-case name ggml and llama.cpp print, e.g. "q8_0".</summary>
    public static string Name(GgmlType type) => type.ToString().ToLowerInvariant();

    /// <summary>Parses a name such as "q4_0", "F16" or "bf16".</summary>
    public static bool TryParse(string name, out GgmlType type) =>
        Enum.TryParse(name, ignoreCase: true, out type) && Enum.IsDefined(type);
}
