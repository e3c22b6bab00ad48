using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.CPU;

namespace Dclm.Gpu.Tests;

/// <summary>
/// Two CPU accelerators with their compiled kernels for the decode-kernel tests: <c>cpu-accel</c> as the CLI opens it
/// (8-wide warps, one weight row per warp) and one with CUDA's 32-wide warps (four rows per warp, groups of 128 as on a
/// GPU), so the rows-per-warp paths run without a GPU.
/// </summary>
public sealed class DecodeDevicesFixture : IDisposable
{
    private readonly GpuDevice _narrow = GpuDevice.Open("cpu-accel");
    private readonly Context _wideContext;

    public DecodeDevicesFixture()
    {
        Narrow = new GpuKernels(_narrow.Accelerator);
        var device = new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 4, numMultiprocessors: 1);
        _wideContext = Context.Create(b => b.CPU(device).Math(MathMode.Default).EnableAlgorithms());
        Wide = new GpuKernels(_wideContext.GetCPUDevice(0).CreateAccelerator(_wideContext));
    }

    /// <summary>Kernels on 8-wide warps.</summary>
    internal GpuKernels Narrow { get; }

    /// <summary>Kernels on 32-wide warps.</summary>
    internal GpuKernels Wide { get; }

    /// <summary>The kernels named by a test case.</summary>
    internal GpuKernels Get(int warp) => warp == 32 ? Wide : Narrow;

    public void Dispose()
    {
        Wide.Accelerator.Dispose();
        _wideContext.Dispose();
        _narrow.Dispose();
    }
}
