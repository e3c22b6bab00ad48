using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>The <see cref="Variable"/> switch (quantized and f16/bf16 prefill alike) and the one line a process prints when tensor-core prefill is off.</summary>
internal static class TensorCorePrefill
{
    /// <summary>The switch: 0 runs quantized, f16 and bf16 prefill on the FMA tile kernels (for A/B runs on a device); 1 or unset, tensor cores.</summary>
    public const string Variable = "DCLM_GPU_MMA";

    private static int _told;

    /// <summary>Whether <paramref name="value"/> of <see cref="Variable"/> turns the kernel on: unset, empty or 1 yes, 0 no.</summary>
    public static bool IsEnabled(string? value) => value?.Trim() switch
    {
        null or "" or "1" => true,
        "0" => false,
        _ => throw new ArgumentException($"{Variable}='{value}': use 1 (tensor-core prefill, the default) or 0 (the FMA tile kernel)"),
    };

    /// <summary>The line for <see cref="Variable"/>=0.</summary>
    public const string OffLine = $"{Variable}=0: quantized, f16 and bf16 prefill run on the FMA tile kernels";

    /// <summary>The line for a tensor-core kernel the driver rejected (an sm below 80).</summary>
    public static string NotLoadedLine(Accelerator accelerator, Exception error) =>
        $"the tensor-core prefill kernels did not load on {accelerator.Name} ({error.Message.Split('\n')[0]}); prefill runs on the FMA tile kernels";

    /// <summary>Writes <paramref name="line"/> to standard error unless this process already wrote one.</summary>
    public static void TellOnce(string line)
    {
        if (Interlocked.Exchange(ref _told, 1) == 0) Console.Error.WriteLine(line);
    }

    /// <summary>
    /// A tensor-core prefill product made by <paramref name="open"/> from the warps per group (at most
    /// <paramref name="maxGroupWarps"/>), or null where groups cannot hold a 32-thread warp, where <see cref="Variable"/> is
    /// 0, or where the driver rejects a kernel at load (both said in one line per process); the caller then keeps its FMA
    /// tile kernel.
    /// </summary>
    public static TProduct? TryOpen<TProduct>(Accelerator accelerator, int maxGroupWarps, Func<int, TProduct> open) where TProduct : class
    {
        int warps = Math.Min(maxGroupWarps, accelerator.MaxNumThreadsPerGroup / TensorCoreMultiply.WarpWidth);
        if (warps == 0) return null;
        if (!IsEnabled(Environment.GetEnvironmentVariable(Variable)))
        {
            TellOnce(OffLine);
            return null;
        }
        try
        {
            return open(warps);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            TellOnce(NotLoadedLine(accelerator, e));
            return null;
        }
    }

    /// <summary>The launch of a kernel that gives each warp of a <paramref name="warps"/>-warp group one output tile of
    /// <paramref name="warpRows"/> rows × <paramref name="warpTokens"/> tokens of <paramref name="shape"/>.</summary>
    public static KernelConfig WarpTiles(MatrixShape shape, int warpRows, int warpTokens, int warps)
    {
        long tiles = (long)((shape.Rows + warpRows - 1) / warpRows) * ((shape.Tokens + warpTokens - 1) / warpTokens);
        return new KernelConfig((int)((tiles + warps - 1) / warps), warps * TensorCoreMultiply.WarpWidth);
    }
}

/// <summary>
/// The tensor-core prefill product of one quantized format (<see cref="QuantizedTensorCoreKernels"/>), or none: where
/// <see cref="TensorCorePrefill.Variable"/> is 0, where groups cannot hold a 32-thread warp, or where the driver rejects the kernel at
/// load (mma.sync's m16n8k32 needs sm_80), the caller keeps the shared-memory tile kernel, which gives the same bits.
/// </summary>
internal sealed class TensorCorePrefill<TWeights> where TWeights : struct, IQuantizedRows
{
    private readonly Action<KernelConfig, TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>> _kernel;
    private readonly int _warps;

    private TensorCorePrefill(Action<KernelConfig, TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>> kernel, int warps)
    {
        _kernel = kernel;
        _warps = warps;
    }

    /// <summary>The kernel on <paramref name="accelerator"/>, or null (<see cref="TensorCorePrefill.TryOpen{TProduct}"/>).</summary>
    public static TensorCorePrefill<TWeights>? TryOpen(Accelerator accelerator, LaunchCounter counter) =>
        TensorCorePrefill.TryOpen(accelerator, QuantizedTensorCoreKernels.MaxGroupWarps, warps => new TensorCorePrefill<TWeights>(counter.Wrap(
            accelerator.LoadStreamKernel<TWeights, ArrayView<int>, ArrayView<float>, MatrixShape, ArrayView<float>>(QuantizedTensorCoreKernels.MatrixMatrix)), warps));

    /// <summary>y (+)= W·x for shape's tokens, x given as Q8_0 levels and scales: one warp per 16 × 16 output tile.</summary>
    public void Run(TWeights weights, ArrayView<int> levels, ArrayView<float> scales, MatrixShape shape, ArrayView<float> y)
    {
        _kernel(TensorCorePrefill.WarpTiles(shape, QuantizedTensorCoreKernels.WarpRows, QuantizedTensorCoreKernels.WarpTokens, _warps), weights, levels, scales, shape, y);
    }
}
