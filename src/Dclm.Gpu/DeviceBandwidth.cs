using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// Measures a device's memory bandwidth with a copy kernel: each pass reads one buffer and writes another, so a pass moves
/// twice the buffer's bytes. Best of several passes, as the CPU probe does; the bound a decode step can reach, since it
/// streams its weights once.
/// </summary>
public sealed class DeviceBandwidth : IDisposable
{
    private readonly GpuDevice _device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _source, _destination;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _copy;

    /// <summary>
    /// Buffers of <paramref name="bytes"/> each on <paramref name="device"/>: by default 512 MiB on a GPU, far beyond any
    /// cache, and 8 MiB on ILGPU's CPU accelerator, whose copy runs thread by thread (512 MiB took minutes there) and
    /// whose figure only shows the path works.
    /// </summary>
    public DeviceBandwidth(GpuDevice device, long? bytes = null)
    {
        _device = device;
        long count = (bytes ?? (device.Accelerator.AcceleratorType == AcceleratorType.CPU ? 8L << 20 : 512L << 20)) / sizeof(float);
        _source = device.Accelerator.Allocate1D<float>(count);
        _destination = device.Accelerator.Allocate1D<float>(count);
        _source.MemSetToZero();
        _copy = device.Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(Kernels.ElementKernels.Copy);
        _copy((int)count, _source.View, _destination.View);
        device.Accelerator.Synchronize();
    }

    /// <summary>Best bytes moved (read + written) per second over <paramref name="passes"/> copies.</summary>
    public double Measure(int passes = 10)
    {
        double best = 0;
        int count = (int)_source.Length;
        for (int p = 0; p < passes; p++)
        {
            var clock = Stopwatch.StartNew();
            _copy(count, _source.View, _destination.View);
            _device.Accelerator.Synchronize();
            best = Math.Max(best, 2.0 * count * sizeof(float) / clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    public void Dispose()
    {
        _source.Dispose();
        _destination.Dispose();
    }
}
