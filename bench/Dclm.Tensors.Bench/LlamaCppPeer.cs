using System.Runtime.InteropServices;

namespace Dclm.Tensors.Bench;

/// <summary>
/// llama.cpp's own CPU dot-product kernels (ggml_get_type_traits_cpu) from the LLamaSharp.Backend.Cpu
/// package, driven row by row on one thread: the peer that MatMul's single-thread speed is compared to.
/// </summary>
internal static unsafe class LlamaCppPeer
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TypeTraitsCpu
    {
        public delegate* unmanaged<float*, void*, long, void> FromFloat;
        public delegate* unmanaged<int, float*, nuint, void*, nuint, void*, nuint, int, void> VecDot;
        public int VecDotType;
        public long Rows;
    }

    private static nint cpu;

    public static bool TryLoad(out string message)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native",
            System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "avx512" : "avx2");
        try
        {
            NativeLibrary.Load(Path.Combine(folder, "libggml-base.so"));
            cpu = NativeLibrary.Load(Path.Combine(folder, "libggml-cpu.so"));
            ((delegate* unmanaged<void>)NativeLibrary.GetExport(cpu, "ggml_cpu_init"))();
            message = folder;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            message = e.Message;
            return false;
        }
    }

    /// <summary>y[r] = row r · x for a (rows, columns) matrix of ggml type, activations quantized as llama.cpp does.</summary>
    public static void MatVec(int type, byte* weight, long rowBytes, int rows, int columns, float* x, float* y, byte* scratch)
    {
        var traits = ((delegate* unmanaged<int, TypeTraitsCpu*>)NativeLibrary.GetExport(cpu, "ggml_get_type_traits_cpu"))(type);
        int vecDotType = traits->VecDotType;
        var activationTraits = ((delegate* unmanaged<int, TypeTraitsCpu*>)NativeLibrary.GetExport(cpu, "ggml_get_type_traits_cpu"))(vecDotType);
        if (vecDotType != 0) activationTraits->FromFloat(x, scratch, columns);
        void* activation = vecDotType != 0 ? scratch : x;
        for (int r = 0; r < rows; r++)
            traits->VecDot(columns, y + r, 0, weight + r * rowBytes, 0, activation, 0, 1);
    }
}
