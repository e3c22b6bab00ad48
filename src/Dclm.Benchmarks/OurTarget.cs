using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Models;
using Dclm.Tensors.Compute;

namespace Dclm.Benchmarks;

/// <summary>DclmSharp's engine on a model file, with a preallocated cache and logits buffer.</summary>
public sealed class OurTarget : IBenchTarget
{
    private readonly ComputePool _pool;
    private readonly LoadedModel _model;
    private readonly KvCache _cache;
    private readonly float[] _logits;
    private readonly ForwardBatch _step = new() { Tokens = new int[1], Positions = new int[1], Slots = new int[1], LogitRows = [0] };

    public OurTarget(string path, int threads, int contextSize, WeightLoading loading = WeightLoading.Automatic)
    {
        _pool = new ComputePool(threads);
        _model = ModelLoader.Load(path, _pool, loading);
        _cache = _model.Model.CreateCache(1, contextSize);
        _logits = new float[_model.Config.VocabularySize];
    }

    public string Name => "dclmsharp";

    /// <summary>The loaded model, for byte counts.</summary>
    public LoadedModel Model => _model;

    public void ProcessPrompt(int[] tokens)
    {
        _cache.Free(0);
        _model.Model.Forward(ForwardBatch.Sequence(tokens, 0), _cache, _logits);
    }

    public void Generate(int first, int count)
    {
        _cache.Free(0);
        int token = first;
        for (int i = 0; i < count; i++)
        {
            _step.Tokens[0] = token;
            _step.Positions[0] = i;
            _model.Model.Forward(_step, _cache, _logits);
            token = Sampler.ArgMax(_logits);
        }
    }

    public void Dispose()
    {
        _model.Dispose();
        _pool.Dispose();
    }
}
