using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors.Compute;

namespace Dclm.Gpu;

/// <summary>
/// A loaded model on the device a user named: the CPU engine itself for <c>cpu</c>, or a <see cref="GpuDecoderModel"/>
/// made from its weights for <c>cuda</c>, <c>cuda:N</c> or <c>cpu-accel</c>. Disposing releases the device copy only; the
/// CPU model (and the weights' files) stay the caller's.
/// </summary>
public sealed class DeviceModel : IDisposable
{
    private readonly GpuDecoderModel? _gpu;

    private DeviceModel(IDecoderModel model, GpuDecoderModel? gpu) => (Model, _gpu) = (model, gpu);

    /// <summary>The model to run.</summary>
    public IDecoderModel Model { get; }

    /// <summary>"cpu", or the device's description.</summary>
    public string Description => _gpu?.Device.Description ?? "cpu";

    /// <summary>
    /// <paramref name="model"/> on <paramref name="device"/>, serving <paramref name="adapters"/> (a set made on
    /// <paramref name="model"/>) there too when given; throws <see cref="GpuUnavailableException"/> (one line) when the
    /// device is missing and <see cref="NotSupportedException"/> when the model cannot run there.
    /// </summary>
    public static DeviceModel Open(DecoderModel model, string device, ComputePool? pool = null, AdapterSet? adapters = null)
    {
        if (!GpuDevice.IsAccelerator(device)) return new DeviceModel(model, null);
        if (model.TensorParallel is not null) throw new NotSupportedException("--device does not combine with --tensor-parallel");
        var opened = GpuDevice.Open(device);
        GpuDecoderModel gpu;
        try { gpu = new GpuDecoderModel(model.Config, model.Weights, opened, ownsDevice: true, pool ?? model.Pool); }
        catch
        {
            opened.Dispose();
            throw;
        }
        try
        {
            if (adapters is not null) gpu.UseAdapters(adapters);
        }
        catch
        {
            gpu.Dispose();
            throw;
        }
        return new DeviceModel(gpu, gpu);
    }

    public void Dispose() => _gpu?.Dispose();
}
