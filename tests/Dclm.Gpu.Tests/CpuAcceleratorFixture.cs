namespace Dclm.Gpu.Tests;

/// <summary>One ILGPU CPU accelerator for the whole test class (kernels compile once per accelerator).</summary>
public sealed class CpuAcceleratorFixture : IDisposable
{
    public GpuDevice Device { get; } = GpuDevice.Open("cpu-accel");

    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public void Dispose() => Device.Dispose();
}
