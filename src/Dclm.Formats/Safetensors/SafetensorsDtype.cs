using Dclm.Tensors;

namespace Dclm.Formats.Safetensors;

/// <summary>The safetensors dtype names, their element sizes and their ggml equivalents.</summary>
public static class SafetensorsDtype
{
    /// <summary>Bytes per element of <paramref name="dtype"/> ("F32", "BF16", ...), or 0 for a name the format does not define.</summary>
    public static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => 0,
    };

    /// <summary>The ggml type that stores the same bytes, or <see cref="TensorEntry.NoGgmlType"/> when ggml has none.</summary>
    public static GgmlType ToGgmlType(string dtype) => dtype switch
    {
        "F64" => GgmlType.F64,
        "F32" => GgmlType.F32,
        "F16" => GgmlType.F16,
        "BF16" => GgmlType.BF16,
        "I64" => GgmlType.I64,
        "I32" => GgmlType.I32,
        "I16" => GgmlType.I16,
        "I8" => GgmlType.I8,
        _ => TensorEntry.NoGgmlType,
    };

    /// <summary>The dtype name for a plain ggml type; false for quantized types, which safetensors cannot hold.</summary>
    public static bool TryFromGgmlType(GgmlType type, out string dtype)
    {
        dtype = type switch
        {
            GgmlType.F64 => "F64",
            GgmlType.F32 => "F32",
            GgmlType.F16 => "F16",
            GgmlType.BF16 => "BF16",
            GgmlType.I64 => "I64",
            GgmlType.I32 => "I32",
            GgmlType.I16 => "I16",
            GgmlType.I8 => "I8",
            _ => "",
        };
        return dtype.Length > 0;
    }
}
