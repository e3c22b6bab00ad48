using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Dclm.Gpu;

/// <summary>The device named on the command line is not there (no driver, no such index, an unknown name).</summary>
public sealed class GpuUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// An ILGPU context and one accelerator: a CUDA device (<c>cuda</c>, <c>cuda:N</c>) or ILGPU's CPU accelerator
/// (<c>cpu-accel</c>), which runs the same kernels on host threads (8-wide warps, groups of up to 64 threads), so every
/// kernel is tested without a GPU.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private readonly Context _context;

    private GpuDevice(Context context, Accelerator accelerator)
    {
        _context = context;
        Accelerator = accelerator;
    }

    /// <summary>The accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Name and memory of the device, for logs: "NVIDIA H200 (cuda:0, 139.8 GiB)".</summary>
    public string Description { get; private init; } = "";

    /// <summary>Whether <paramref name="name"/> asks for an accelerator rather than the CPU engine ("cpu").</summary>
    public static bool IsAccelerator(string name) => !name.Equals("cpu", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The context CUDA devices are opened in: default math, and ILGPU.Algorithms enabled, since without it the PTX
    /// backend has no implementation of <see cref="MathF.Exp"/> or <see cref="MathF.Sqrt"/> (the kernels run on the
    /// CPU accelerator either way; the H200 run of 2026-12-04 failed on exactly that). Creating it needs no GPU.
    /// </summary>
    internal static Context CreateCudaContext(OptimizationLevel level = OptimizationLevel.O1) =>
        Context.Create(b => b.Cuda().Math(MathMode.Default).Optimize(level).EnableAlgorithms().KernelIntrinsics());

    /// <summary>
    /// The switch for ILGPU's optimisation level on CUDA, for A/B runs on a device: O1 (unset, the default) or O2, which
    /// adds ILGPU's experimental kernel address-space inference (weights and activations read with <c>ld.global</c>
    /// instead of generic <c>ld</c>), loop optimisations and code placement. The CPU accelerator runs the kernels' .NET
    /// code at any level, so only a GPU run can tell O2's results and speed; ptxas checks that every kernel assembles.
    /// </summary>
    public const string OptimizeVariable = "DCLM_GPU_OPTIMIZE";

    /// <summary>The level <paramref name="value"/> of <see cref="OptimizeVariable"/> asks for; a bad value fails with one line.</summary>
    public static OptimizationLevel OptimizationFrom(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" or "O1" => OptimizationLevel.O1,
        "O2" => OptimizationLevel.O2,
        _ => throw new GpuUnavailableException($"{OptimizeVariable}='{value}': use O1 (the default) or O2"),
    };

    /// <summary>Opens <c>cpu-accel</c>, <c>cuda</c> or <c>cuda:N</c>; throws <see cref="GpuUnavailableException"/> with one line when it cannot.</summary>
    public static GpuDevice Open(string name)
    {
        string lower = name.Trim().ToLowerInvariant();
        if (lower == "cpu-accel")
        {
            // Small warps and groups (8 × 8 threads): every kernel path runs (shuffle trees, tiles, barriers) with few host threads.
            var device = new CPUDevice(numThreadsPerWarp: 8, numWarpsPerMultiprocessor: 8, numMultiprocessors: 1);
            var context = Context.Create(b => b.CPU(device).Math(MathMode.Default).EnableAlgorithms());
            return new GpuDevice(context, context.GetCPUDevice(0).CreateAccelerator(context)) { Description = "ILGPU CPU accelerator (cpu-accel)" };
        }
        if (lower != "cuda" && !lower.StartsWith("cuda:", StringComparison.Ordinal))
            throw new GpuUnavailableException($"--device '{name}' is not a device: use cpu, cuda, cuda:N or cpu-accel");
        int index = 0;
        if (lower.Length > 4 && (!int.TryParse(lower.AsSpan(5), out index) || index < 0))
            throw new GpuUnavailableException($"--device '{name}': the CUDA device index must be a non-negative integer");
        var level = OptimizationFrom(Environment.GetEnvironmentVariable(OptimizeVariable));
        Context cuda;
        try { cuda = CreateCudaContext(level); }
        catch (Exception e) { throw new GpuUnavailableException($"--device {name}: CUDA could not be initialised ({e.Message.Split('\n')[0]})", e); }
        int count = cuda.GetCudaDevices().Count;
        if (index >= count)
        {
            cuda.Dispose();
            throw new GpuUnavailableException(count == 0
                ? $"--device {name}: no CUDA device found (no NVIDIA GPU or driver on this machine); use --device cpu"
                : $"--device {name}: only {count} CUDA device(s) found (cuda:0 to cuda:{count - 1})");
        }
        try
        {
            var cudaDevice = cuda.GetCudaDevice(index);
            var accelerator = cudaDevice.CreateAccelerator(cuda);
            return new GpuDevice(cuda, accelerator) { Description = $"{accelerator.Name} (cuda:{index}, {accelerator.MemorySize / (double)(1L << 30):F1} GiB)" };
        }
        catch (Exception e)
        {
            cuda.Dispose();
            throw new GpuUnavailableException($"--device {name}: the CUDA device could not be opened ({e.Message.Split('\n')[0]})", e);
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        _context.Dispose();
    }
}
