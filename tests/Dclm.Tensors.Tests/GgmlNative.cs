using System.Runtime.InteropServices;

namespace Dclm.Tensors.Tests;

/// <summary>
/// llama.cpp's own ggml-base library from the LLamaSharp.Backend.Cpu package, the outside oracle for
/// quantization and element conversions. The no-AVX build is used on purpose: it is compiled without
/// FMA, so its float arithmetic is not contracted and follows the C source operation for operation.
/// </summary>
internal static unsafe class GgmlNative
{
    private static readonly Lazy<nint> Library = new(Load);

    private static nint Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "noavx", "libggml-base.so");
        if (!File.Exists(path)) throw new FileNotFoundException($"llama.cpp's ggml-base library is missing: {path}");
        return NativeLibrary.Load(path);
    }

    private static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    /// <summary>ggml_quantize_chunk(type, src, dst, start, nrows, n_per_row, imatrix) → bytes written.</summary>
    public static nuint QuantizeChunk(GgmlType type, float* source, byte* destination, long start, long rows, long perRow) =>
        ((delegate* unmanaged<int, float*, void*, long, long, long, float*, nuint>)Export("ggml_quantize_chunk"))(
            (int)type, source, destination, start, rows, perRow, null);

    /// <summary>quantize_row_q8_K_ref(x, y, k): the activation format of llama.cpp's K-quant dot products.</summary>
    public static void QuantizeRowQ8K(float* source, byte* destination, long count) =>
        ((delegate* unmanaged<float*, byte*, long, void>)Export("quantize_row_q8_K_ref"))(source, destination, count);

    public static void Fp32ToFp16(float* source, ushort* destination, long count) =>
        ((delegate* unmanaged<float*, ushort*, long, void>)Export("ggml_fp32_to_fp16_row"))(source, destination, count);

    public static void Fp16ToFp32(ushort* source, float* destination, long count) =>
        ((delegate* unmanaged<ushort*, float*, long, void>)Export("ggml_fp16_to_fp32_row"))(source, destination, count);

    public static void Fp32ToBf16(float* source, ushort* destination, long count) =>
        ((delegate* unmanaged<float*, ushort*, long, void>)Export("ggml_fp32_to_bf16_row_ref"))(source, destination, count);
}
