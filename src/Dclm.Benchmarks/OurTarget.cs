using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Models;
using Dclm.Tensors.Compute;
using GpuModel = Dclm.Gpu.GpuDecoderModel;

namespace Dclm.Benchmarks;

/// <summary>DclmSharp's engine on a model file, with a preallocated cache and logits buffer.</summary>
public sealed class OurTarget : IBenchTarget
{
    private readonly ComputePool _pool;
    private readonly LoadedModel _model;
    private readonly Gpu.DeviceModel _run;
    private readonly KvCache _cache;
    private readonly float[] _logits;
    private readonly ForwardBatch _step = new() { Tokens = new int[1], Positions = new int[1], Slots = new int[1], LogitRows = [0] };
    private readonly CancellationToken _cancellation;

    /// <param name="path">The model file.</param>
    /// <param name="threads">CPU compute threads.</param>
    /// <param name="contextSize">Positions of the cache.</param>
    /// <param name="loading">How the weights are held on the host.</param>
    /// <param name="device">cpu, or an accelerator (<see cref="Gpu.GpuDevice.Open"/>) the layers run on.</param>
    /// <param name="cancellation">Stops a measurement between layers of a forward pass (a 7B prompt on the CPU takes minutes).</param>
    public OurTarget(string path, int threads, int contextSize, WeightLoading loading = WeightLoading.Automatic, string device = "cpu",
        CancellationToken cancellation = default)
    {
        _cancellation = cancellation;
        _pool = new ComputePool(threads);
        _model = ModelLoader.Load(path, _pool, loading);
        try { _run = Gpu.DeviceModel.Open(_model.Model, device, _pool); }
        catch
        {
            _model.Dispose();
            _pool.Dispose();
            throw;
        }
        _cache = _run.Model.CreateCache(1, contextSize);
        _logits = new float[_model.Config.VocabularySize];
    }

    public string Name => _run.Model is GpuModel ? "dclmsharp-gpu" : "dclmsharp";

    /// <summary>The accelerator the layers run on, or null on the CPU.</summary>
    public Gpu.GpuDevice? Device => (_run.Model as GpuModel)?.Device;

    /// <summary>The loaded model, for byte counts.</summary>
    public LoadedModel Model => _model;

    public void ProcessPrompt(int[] tokens)
    {
        _cache.Free(0);
        _run.Model.Forward(ForwardBatch.Sequence(tokens, 0), _cache, _logits, _cancellation);
    }

    public void Generate(int first, int count)
    {
        _cache.Free(0);
        int token = first;
        for (int i = 0; i < count; i++)
        {
            _step.Tokens[0] = token;
            _step.Positions[0] = i;
            _run.Model.Forward(_step, _cache, _logits, _cancellation);
            token = Sampler.ArgMax(_logits);
        }
    }

    public void Dispose()
    {
        _run.Dispose();
        _model.Dispose();
        _pool.Dispose();
    }
}
