using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// The tensor-core prefill product of one 16-bit weight format (<see cref="HalfTensorCoreKernels"/>): the activations split
/// into parts, then the mma kernel. Null from <see cref="TryOpen"/> where <see cref="TensorCorePrefill.Variable"/> is 0, where
/// groups cannot hold a 32-thread warp, or where the driver rejects a kernel at load (mma.sync's m16n8k16 with f32
/// accumulation needs sm_80); the caller then keeps the FMA tile kernel. Unlike the quantized kernel it does not give the
/// tile kernel's bits (it sums in another order), only its accuracy (see <see cref="HalfTensorCoreKernels"/>).
/// </summary>
internal sealed class HalfTensorCorePrefill<TFormat> : IDisposable where TFormat : struct, IHalfTensorFormat
{
    private readonly Action<KernelConfig, ArrayView<float>, MatrixShape, ArrayView<uint>, ArrayView<float>> _split;
    private readonly Action<KernelConfig, ArrayView<uint>, ArrayView<uint>, ArrayView<float>, MatrixShape, ArrayView<float>> _multiply;
    private readonly int _warps, _splitThreads;
    /// <summary>The split activations and their inverse row scales, grown to the largest prefill. (parts, tokens, columns/2), (tokens)</summary>
    private readonly GrowingBuffer<uint> _parts;
    private readonly GrowingBuffer<float> _inverseScales;

    private HalfTensorCorePrefill(Accelerator accelerator, LaunchCounter counter, int warps)
    {
        _split = counter.Wrap(accelerator.LoadStreamKernel<ArrayView<float>, MatrixShape, ArrayView<uint>, ArrayView<float>>(HalfTensorCoreKernels.Split<TFormat>));
        _multiply = counter.Wrap(accelerator.LoadStreamKernel<ArrayView<uint>, ArrayView<uint>, ArrayView<float>, MatrixShape, ArrayView<float>>(
            HalfTensorCoreKernels.MatrixMatrix<TFormat>));
        _warps = warps;
        _splitThreads = Math.Min(HalfTensorCoreKernels.SplitThreads, 1 << (int)Math.Log2(accelerator.MaxNumThreadsPerGroup));
        _parts = new GrowingBuffer<uint>(accelerator);
        _inverseScales = new GrowingBuffer<float>(accelerator);
    }

    /// <summary>The kernels on <paramref name="accelerator"/>, or null (<see cref="TensorCorePrefill.TryOpen{TProduct}"/>).</summary>
    public static HalfTensorCorePrefill<TFormat>? TryOpen(Accelerator accelerator, LaunchCounter counter) =>
        TensorCorePrefill.TryOpen(accelerator, HalfTensorCoreKernels.MaxGroupWarps, warps => new HalfTensorCorePrefill<TFormat>(accelerator, counter, warps));

    /// <summary>y (+)= W·x for shape's tokens, W given as its pairs (rows, columns/2): one group per token to split x, one warp per 16 × 16 output tile.</summary>
    public void Run(ArrayView<uint> weights, ArrayView<float> x, MatrixShape shape, ArrayView<float> y)
    {
        var parts = _parts.Ensure((long)default(TFormat).Parts() * shape.Tokens * shape.Columns / 2);
        var inverseScales = _inverseScales.Ensure(shape.Tokens);
        _split(new KernelConfig(shape.Tokens, _splitThreads), x, shape, parts, inverseScales);
        _multiply(TensorCorePrefill.WarpTiles(shape, HalfTensorCoreKernels.WarpRows, HalfTensorCoreKernels.WarpTokens, _warps), weights, parts, inverseScales, shape, y);
    }

    public void Dispose()
    {
        _parts.Dispose();
        _inverseScales.Dispose();
    }
}
