using Dclm.Gpu.Kernels;
using Dclm.Models;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// A decoder whose whole forward pass runs on an accelerator (<see cref="GpuDevice"/>): weights uploaded once in their
/// types, keys and values in device memory under a <see cref="KvCache"/>'s block ids, one copy of the logits back per
/// step. The token embedding stays on the host (one row per token is read) and so does everything after the logits
/// (sampling). Runs the open_lm (DCLM), Llama, Qwen2 and Qwen3 graphs; the CPU engine (<see cref="DecoderModel"/>) is
/// its reference, and <see cref="Conformance.GpuConformance"/> checks one against the other.
/// </summary>
public sealed partial class GpuDecoderModel : IDecoderModel
{
    private readonly GpuDevice _device;
    private readonly bool _ownsDevice;
    private readonly ModelWeights _weights;
    private readonly GpuKernels _kernels;
    private readonly DeviceLayer[] _layers;
    private readonly DeviceMatrix _head;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _finalNorm;
    private readonly DeviceRunState _state;
    private readonly BatchValidation _validation = new();
    private readonly object _gate = new();
    // Per layer RoPE frequencies (headDim/2), and whether all layers share the first's.
    private readonly float[][] _inverseFrequencies;
    private readonly bool _sharedFrequencies;
    private readonly float[]? _slopes;
    private readonly StepProfile? _profile;
    // Each slot's row among the step's sequences (host scratch reused by every step; the uploads are packed in _state).
    private int[] _slotRows = [];

    /// <summary>
    /// Uploads <paramref name="weights"/> to <paramref name="device"/>; with <paramref name="ownsDevice"/> the model disposes
    /// the device. The weights stay the caller's (the token embedding is read from them every step).
    /// </summary>
    public GpuDecoderModel(ModelConfig config, ModelWeights weights, GpuDevice device, bool ownsDevice = false, ComputePool? pool = null)
    {
        Config = config.Validate();
        weights.Validate(config);
        if (config.HeadDim > AttentionKernel.MaxHeadDim) throw new NotSupportedException($"the GPU backend handles heads up to {AttentionKernel.MaxHeadDim} wide, not {config.HeadDim}");
        if (device.Accelerator.WarpSize > AttentionKernel.MaxWarp) throw new NotSupportedException($"warps of {device.Accelerator.WarpSize} threads are wider than {AttentionKernel.MaxWarp}");
        (_device, _ownsDevice, _weights) = (device, ownsDevice, weights);
        Pool = pool ?? ComputePool.Shared;
        var a = device.Accelerator;
        _kernels = new GpuKernels(a);
        _layers = weights.Layers.Select((l, i) => new DeviceLayer(a, l, i)).ToArray();
        _head = new DeviceMatrix(a, weights.Output, "output");
        _finalNorm = a.Allocate1D(weights.FinalNorm);
        _state = new DeviceRunState(a);
        _profile = StepProfile.FromEnvironment(a);
        var derived = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        _inverseFrequencies = weights.Layers.Select(l => l.RopeInverseFrequency ?? derived).ToArray();
        _sharedFrequencies = _inverseFrequencies.All(f => f.AsSpan().SequenceEqual(_inverseFrequencies[0]));
        _slopes = config.UsesAlibi ? AlibiSlopes.For(config.Heads) : null;
        _state.Slopes.Upload(_slopes ?? [0f]);
        BytesPerToken = weights.TokenEmbedding.RowBytes + _head.ByteLength + _layers.Sum(l => l.MatrixBytes);
    }

    public ModelConfig Config { get; }
    public ComputePool Pool { get; }
    /// <summary>The device the model runs on.</summary>
    public GpuDevice Device => _device;
    /// <summary>Kernel launches and host-device transfers so far, for holding a step to its launch budget (tests).</summary>
    internal LaunchCounter Counter => _kernels.Counter;
    /// <summary>Weight bytes one decode step reads: every matrix, one row of the embedding.</summary>
    public long BytesPerToken { get; }

    /// <summary>
    /// Positions one warp of split attention walks: decode contexts longer than this are split over several warps. 32 is
    /// one chunk of a GPU warp, so a decode step at context c runs heads·c/32 warps instead of heads (32 on a 132-SM
    /// H200 before); the tests lower it to cross splits on tiny contexts. Not yet tuned on a GPU, so
    /// <see cref="AttentionSplitVariable"/> can set it for a benchmark run (docs/gpu.md).
    /// </summary>
    internal int AttentionSplitLength { get; set; } = ParseSplitLength(Environment.GetEnvironmentVariable(AttentionSplitVariable));

    /// <summary>Environment variable that sets the positions per attention split (default 32), for tuning on a device.</summary>
    public const string AttentionSplitVariable = "DCLM_GPU_ATTENTION_SPLIT";

    /// <summary>The split length <paramref name="value"/> asks for: 32 when unset or empty, else a positive integer.</summary>
    internal static int ParseSplitLength(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return 32;
        if (int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int length) && length > 0)
            return length;
        throw new ArgumentException($"{AttentionSplitVariable}='{value}' is not a positive number of positions per attention split");
    }

    public KvCache CreateCache(int slots, int capacity, int blockSize, int blocks, KvCacheType type, bool rolling = true)
    {
        if (type != KvCacheType.F32) throw new NotSupportedException($"the GPU backend keeps keys and values as f32; a {type} KV cache is not supported on it");
        var storage = new DeviceKvCache(_device.Accelerator, Config, blocks, blockSize);
        return new KvCache(Config, slots, capacity, blockSize, blocks, storage, rolling);
    }

    /// <summary>
    /// The step of <see cref="IDecoderModel.Forward"/> on the device. <paramref name="cancellation"/> is checked on the host
    /// before each layer's launches (on the CPU accelerator a launch runs to its end before returning, so that is between
    /// layers; on a GPU the host usually runs ahead of the device); a cancelled step lets the device finish what was queued,
    /// then throws with the cache as it was.
    /// </summary>
    public void Forward(ForwardBatch batch, KvCache cache, Span<float> logits, CancellationToken cancellation = default)
    {
        lock (_gate)
        {
            _validation.Check(Config, batch, cache, logits.Length, Config.VocabularySize, "logits");
            if (cache.Storage is not DeviceKvCache storage)
                throw new ArgumentException("the KV cache was not made by this GPU model (use its CreateCache)");
            int n = batch.Count, rows = batch.LogitRowCount;
            if (n == 0) return;
            try
            {
                for (int t = 0; t < n; t++) cache.PrepareWrite(batch.Slots[t], batch.Positions[t]);
                _profile?.Begin(n);
                Stage(batch, cache);
                _profile?.Mark("stage");
                for (int layer = 0; layer < Config.Layers; layer++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    RunLayer(layer, n, storage, cache.BlockSize);
                }
            }
            catch (OperationCanceledException)
            {
                // Queued kernels still write this step's rows; they must land before those blocks can go to another slot.
                _device.Accelerator.DefaultStream.Synchronize();
                _uploadsInFlight = false;
                cache.ReleaseUnwritten(batch);
                throw;
            }
            catch
            {
                cache.ReleaseUnwritten(batch);
                throw;
            }
            for (int t = 0; t < n; t++) cache.MarkWritten(batch.Slots[t], batch.Positions[t]);
            if (rows == 0) return;
            RunHead(batch, rows, logits);
            _profile?.Mark("head+copy");
        }
    }

    public void Dispose()
    {
        _profile?.Report(Console.Error);
        _adapterSet?.Detach(this);
        // A step without logits returns with its uploads queued; the page-locked arrays they read are freed below.
        if (_uploadsInFlight) _device.Accelerator.DefaultStream.Synchronize();
        foreach (var l in _layers) l.Dispose();
        _head.Dispose();
        _finalNorm.Dispose();
        _state.Dispose();
        _kernels.Dispose();
        _deviceAdapters?.Dispose();
        _blockOutput?.Dispose();
        if (_ownsDevice) _device.Dispose();
    }
}
