using Dclm.Models.Projections;

namespace Dclm.Models.Adapters;

/// <summary>
/// LoRA adapters served beside one base model, through its projection seam: every layer's four products are wrapped
/// once (an <see cref="AdapterProjection"/> each), and each sequence of a step gets the adapter its KV slot is assigned,
/// so one batch mixes sequences on different adapters and on the bare base (as vLLM's multi-LoRA and S-LoRA do).
/// Adapters are numbered from 1 in the order added; 0 is the base. Adapters may be added while the model runs
/// (<see cref="Add"/> is thread-safe); slots are assigned between steps by whoever runs them: the engine per sequence,
/// or <see cref="UseEverywhere"/> for a one-adapter command. A model that runs the forward pass itself (a GPU backend)
/// applies the same adapters and assignments once <see cref="Attach"/>ed (<see cref="IAdapterRunner"/>).
/// </summary>
public sealed class AdapterSet
{
    private readonly object _gate = new();
    private readonly DecoderModel _model;
    private readonly AdapterProjection[][] _projections;
    private volatile (string Name, LoraWeights Weights)[] _adapters = [];
    // Models that run these adapters in their own forward pass; replaced whole under _gate.
    private volatile IAdapterRunner[] _runners = [];
    private int[] _bySlot = [];
    private int _everywhere;

    /// <summary>Wraps <paramref name="model"/>'s projections; call it before the model runs its first step.</summary>
    public AdapterSet(DecoderModel model)
    {
        _model = model;
        _projections = new AdapterProjection[model.Config.Layers][];
        for (int layer = 0; layer < model.Config.Layers; layer++)
        {
            var p = model.Projections[layer];
            var wrapped = new[]
            {
                new AdapterProjection(p.QueryKeyValue, this, [LoraTarget.Query, LoraTarget.Key, LoraTarget.Value]),
                new AdapterProjection(p.Output, this, [LoraTarget.Output]),
                new AdapterProjection(p.GateUp, this, [LoraTarget.Gate, LoraTarget.Up]),
                new AdapterProjection(p.Down, this, [LoraTarget.Down]),
            };
            p.QueryKeyValue = wrapped[(int)LayerProduct.QueryKeyValue];
            p.Output = wrapped[(int)LayerProduct.Output];
            p.GateUp = wrapped[(int)LayerProduct.GateUp];
            p.Down = wrapped[(int)LayerProduct.Down];
            _projections[layer] = wrapped;
        }
    }

    /// <summary>The configuration of the base model every adapter here must fit.</summary>
    public ModelConfig Config => _model.Config;

    /// <summary>
    /// Whether the adapters act on <paramref name="model"/>'s steps: the CPU model whose projections they wrap, or a
    /// runner <see cref="Attach"/>ed to them. Another model (the same weights on a GPU backend not attached) would run
    /// without them.
    /// </summary>
    public bool IsAttachedTo(IDecoderModel model) => ReferenceEquals(_model, model) || _runners.Any(r => ReferenceEquals(r, model));

    /// <summary>
    /// Makes <paramref name="runner"/> run these adapters from now on: every adapter loaded so far and every one added or
    /// refreshed later is handed to its <see cref="IAdapterRunner.Prepare"/> (before the CPU projections take it, so a
    /// runner that cannot run an adapter refuses it for the whole set). Throws <see cref="ArgumentException"/> when the
    /// runner's model is not the one the adapters were made for.
    /// </summary>
    public void Attach(IAdapterRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (runner.Config != _model.Config) throw new ArgumentException("the LoRA adapters were made for another model than the runner's");
        lock (_gate)
        {
            if (_runners.Contains(runner)) return;
            var adapters = _adapters;
            for (int i = 0; i < adapters.Length; i++) runner.Prepare(i + 1, adapters[i].Weights);
            _runners = [.. _runners, runner];
        }
    }

    /// <summary>Stops handing adapters to <paramref name="runner"/> (a model being disposed); the set's adapters stay loaded.</summary>
    public void Detach(IAdapterRunner runner)
    {
        lock (_gate) _runners = _runners.Where(r => !ReferenceEquals(r, runner)).ToArray();
    }

    /// <summary>Number of adapters (ids 1..Count).</summary>
    public int Count => _adapters.Length;

    /// <summary>The adapters' names, id 1 first.</summary>
    public IReadOnlyList<string> Names => _adapters.Select(a => a.Name).ToArray();

    /// <summary>The adapter with id <paramref name="id"/> (1..Count).</summary>
    public LoraWeights this[int id] => _adapters[id - 1].Weights;

    /// <summary>The id of the adapter named <paramref name="name"/> (ordinal comparison), or 0 when there is none.</summary>
    public int Find(string name)
    {
        var adapters = _adapters;
        for (int i = 0; i < adapters.Length; i++)
            if (adapters[i].Name == name) return i + 1;
        return 0;
    }

    /// <summary>
    /// Serves <paramref name="adapter"/> under <paramref name="name"/> and returns its id. Throws
    /// <see cref="ArgumentException"/> when the name is taken or the adapter was made for another model.
    /// </summary>
    public int Add(string name, LoraWeights adapter)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (adapter.Config != _model.Config)
            throw new ArgumentException($"adapter '{name}' was made for another model ({adapter.Config.Architecture} dim {adapter.Config.Dim}, {adapter.Config.Layers} layers)");
        lock (_gate)
        {
            if (Find(name) != 0) throw new ArgumentException($"an adapter named '{name}' is already loaded");
            int id = _adapters.Length + 1;
            foreach (var runner in _runners) runner.Prepare(id, adapter);
            for (int layer = 0; layer < _projections.Length; layer++)
                foreach (var projection in _projections[layer]) projection.Add(id, layer, adapter);
            _adapters = [.. _adapters, (name, adapter)];
            return id;
        }
    }

    /// <summary>
    /// Re-reads adapter <paramref name="id"/>'s values: the projections (and attached runners) keep copies of A and B, so an adapter
    /// whose arrays change in place (one being trained) must be refreshed before the next step that uses it.
    /// </summary>
    public void Refresh(int id)
    {
        if (id < 1 || id > Count) throw new ArgumentOutOfRangeException(nameof(id), $"there is no adapter {id} ({Count} loaded)");
        lock (_gate)
        {
            var adapter = _adapters[id - 1].Weights;
            foreach (var runner in _runners) runner.Prepare(id, adapter);
            for (int layer = 0; layer < _projections.Length; layer++)
                foreach (var projection in _projections[layer]) projection.Refresh(id, layer, adapter);
        }
    }

    /// <summary>The adapter the sequence in <paramref name="slot"/> uses (0: the base).</summary>
    public int AdapterOf(int slot)
    {
        var bySlot = _bySlot;
        return (uint)slot < (uint)bySlot.Length ? bySlot[slot] : _everywhere;
    }

    /// <summary>The sequence in <paramref name="slot"/> uses adapter <paramref name="id"/> (0: the base) from the next step on.</summary>
    public void Assign(int slot, int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if ((uint)id > (uint)Count) throw new ArgumentOutOfRangeException(nameof(id), $"there is no adapter {id} ({Count} loaded)");
        if (slot >= _bySlot.Length)
        {
            var grown = new int[Math.Max(slot + 1, _bySlot.Length * 2)];
            Array.Fill(grown, _everywhere);
            _bySlot.CopyTo(grown, 0);
            _bySlot = grown;
        }
        _bySlot[slot] = id;
    }

    /// <summary>Every slot uses adapter <paramref name="id"/> (0: the base), as a command running one adapter wants.</summary>
    public void UseEverywhere(int id)
    {
        if ((uint)id > (uint)Count) throw new ArgumentOutOfRangeException(nameof(id), $"there is no adapter {id} ({Count} loaded)");
        _everywhere = id;
        _bySlot = [];
    }
}
