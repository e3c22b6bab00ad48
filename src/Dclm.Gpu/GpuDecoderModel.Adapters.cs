using Dclm.Models;
using Dclm.Models.Adapters;
using ILGPU;

namespace Dclm.Gpu;

public sealed partial class GpuDecoderModel : IAdapterRunner
{
    // The set whose per-slot assignments the steps follow, and its adapters on the device (null until UseAdapters).
    private AdapterSet? _adapterSet;
    private DeviceAdapters? _deviceAdapters;
    // The step's adapter id per token (0: the base), staged with its ints. (tokens)
    private readonly StagedRegion<int> _adapterRows = new();
    // Wo·a or W_down·h of a step whose adapters change that product, before it joins the residual. (tokens, dim)
    private GrowingBuffer<float>? _blockOutput;

    /// <summary>The LoRA adapters this model serves (<see cref="UseAdapters"/>), or null.</summary>
    public AdapterSet? Adapters => _adapterSet;

    /// <summary>
    /// Serves <paramref name="adapters"/> on the device: each adapter (loaded now or later) is copied up once in f32, and
    /// every step adds s·B·(A·x) after the targeted products to the rows whose slot the set assigns an adapter, as the
    /// CPU engine's projections do; a batch mixes adapters and the bare base.
    /// </summary>
    public void UseAdapters(AdapterSet adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        lock (_gate)
        {
            if (_adapterSet is not null && !ReferenceEquals(_adapterSet, adapters)) throw new InvalidOperationException("the model already serves another set of LoRA adapters");
            _deviceAdapters ??= new DeviceAdapters(_device.Accelerator, Config, _kernels.Counter);
            _blockOutput ??= new GrowingBuffer<float>(_device.Accelerator);
        }
        // Attach calls Prepare for the adapters already loaded (under the set's lock, which Prepare never holds while it waits for ours).
        adapters.Attach(this);
        lock (_gate) _adapterSet = adapters;
    }

    /// <summary>Copies adapter <paramref name="id"/> to the device (or its new values, after a refresh); called by the set.</summary>
    public void Prepare(int id, LoraWeights adapter)
    {
        lock (_gate)
        {
            if (_deviceAdapters is null) throw new InvalidOperationException("call UseAdapters before handing the model adapters");
            // Kernels of a step that returned no logits may still be reading the tables this replaces.
            if (_uploadsInFlight) _device.Accelerator.DefaultStream.Synchronize();
            _deviceAdapters.Hold(id, adapter);
        }
    }

    /// <summary>Ints <see cref="StageAdapters"/> reserves for a step of <paramref name="tokens"/> tokens.</summary>
    private long StagedAdapterInts(int tokens) => _adapterSet is null ? 0 : tokens + 1;

    /// <summary>Stages each token's adapter id with the step's ints, when the model serves adapters.</summary>
    private void StageAdapters(ForwardBatch batch, StagingBuffer<int> ints)
    {
        if (_adapterSet is null) return;
        var adapters = ints.Reserve(batch.Count, out long at);
        _deviceAdapters!.StageRows(batch, _adapterSet, adapters);
        _adapterRows.Set(ints.View(at, batch.Count));
    }

    /// <summary>
    /// y += s·B·(A·x) of the adapters the step's rows use on <paramref name="product"/> of layer <paramref name="layer"/>
    /// (x (tokens, inputs) the product's float input, y (tokens, stride) its output); no launch when no row's adapter
    /// changes the product.
    /// </summary>
    private void AddAdapters(int layer, LayerProduct product, ArrayView<float> x, int inputs, int n, ArrayView<float> y, int stride)
    {
        if (_deviceAdapters is { } device && _adapterSet is not null && device.Touches(layer, product))
            device.Add(layer, product, _adapterRows.Ensure(n), n, x, inputs, y, stride, residual: default);
    }

    /// <summary>
    /// x += W·input (Wo or W_down, into the residual x (tokens, dim)), with the step's adapters on
    /// <paramref name="product"/>: as the CPU engine does it, the product and its adapters' terms are summed first and
    /// then added to x, so where an adapter changes the product it runs into a scratch row block and one adapter launch
    /// adds the terms and the block into x (rows on the base get x + W·input, the bits of the plain accumulating product).
    /// </summary>
    private void ProjectIntoResidual(int layer, LayerProduct product, DeviceMatrix matrix, ProjectionInput input, int inputs, int n, ArrayView<float> x)
    {
        int d = Config.Dim;
        if (_deviceAdapters is not { } device || _adapterSet is null || !device.Touches(layer, product))
        {
            Project([matrix], input, inputs, n, x, d, [0], accumulate: true);
            return;
        }
        var block = _blockOutput!.Ensure((long)n * d);
        Project([matrix], input, inputs, n, block, d, [0], accumulate: false);
        device.Add(layer, product, _adapterRows.Ensure(n), n, input.Values, inputs, block, d, residual: x);
    }
}
