using System.Runtime.InteropServices;

namespace Dclm.Tensors.Tests;

/// <summary>
/// llama.cpp's own ggml-base and ggml-cpu libraries from the LLamaSharp.Backend.Cpu package, the outside oracle for
/// quantization, element conversions and quantized dot products. The no-AVX build is used on purpose: it is compiled
/// without FMA, so its float arithmetic is not contracted and follows the C source operation for operation.
/// </summary>
internal static unsafe class GgmlNative
{
    private static readonly Lazy<nint> Library = new(() => Load("libggml-base.so"));

    /// <summary>ggml-cpu (its dot products), loaded after ggml-base, which it links against, and initialised (its f16 table).</summary>
    private static readonly Lazy<nint> CpuLibrary = new(() =>
    {
        _ = Library.Value;
        nint library = Load("libggml-cpu.so");
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(library, "ggml_cpu_init"))();
        return library;
    });

    private static nint Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "noavx", name);
        if (!File.Exists(path)) throw new FileNotFoundException($"llama.cpp's {name} is missing: {path}");
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

    /// <summary>quantize_row_q8_0_ref(x, y, k): the activation format of llama.cpp's Q4_0 and Q8_0 dot products.</summary>
    public static void QuantizeRowQ8_0(float* source, byte* destination, long count) =>
        ((delegate* unmanaged<float*, byte*, long, void>)Export("quantize_row_q8_0_ref"))(source, destination, count);

    /// <summary>
    /// llama.cpp's plain-C dot product of one weight row of <paramref name="type"/> (Q4_0, Q8_0, Q4_K or Q6_K) with one
    /// activation row in its Q8_0 or Q8_K format: ggml_vec_dot_TYPE_q8_X_generic(n, &amp;s, 0, x, 0, y, 0, 1).
    /// </summary>
    public static float VecDot(GgmlType type, byte* weights, byte* activations, int count)
    {
        string name = type switch
        {
            GgmlType.Q4_0 => "ggml_vec_dot_q4_0_q8_0_generic",
            GgmlType.Q8_0 => "ggml_vec_dot_q8_0_q8_0_generic",
            GgmlType.Q4_K => "ggml_vec_dot_q4_K_q8_K_generic",
            GgmlType.Q6_K => "ggml_vec_dot_q6_K_q8_K_generic",
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no quantized dot product for this type"),
        };
        float result;
        ((delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)NativeLibrary.GetExport(CpuLibrary.Value, name))(
            count, &result, 0, weights, 0, activations, 0, 1);
        return result;
    }
}
