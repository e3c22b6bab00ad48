using Dclm.Models;
using Dclm.Models.Adapters;

namespace Dclm.Training.FineTuning;

/// <summary>How new adapters are made: r, α, dropout and which projections they attach to.</summary>
public sealed record LoraSettings
{
    /// <summary>r.</summary>
    public int Rank { get; init; } = 16;
    /// <summary>α; products are scaled by α / r.</summary>
    public double Alpha { get; init; } = 32;
    /// <summary>Dropout on each adapter's input while training.</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary>The projections of every block that get an adapter.</summary>
    public IReadOnlyList<LoraTarget> Targets { get; init; } = LoraTargets.All;
}

/// <summary>
/// Every adapter of one model, by block and target projection. A target may carry several adapters (an open_lm
/// PEFT adapter on the whole fused in_proj becomes one per slice, sharing A); most carry one or none.
/// </summary>
public sealed class LoraAdapters
{
    private readonly Dictionary<(int Layer, LoraTarget Target), List<LoraAdapter>> _byModule = [];
    private readonly List<LoraAdapter> _all = [];

    public LoraAdapters(ModelConfig config) => Config = config;

    /// <summary>The model the adapters fit.</summary>
    public ModelConfig Config { get; }
    /// <summary>Every adapter, in the order added.</summary>
    public IReadOnlyList<LoraAdapter> All => _all;

    /// <summary>The adapters on <paramref name="target"/> of block <paramref name="layer"/>.</summary>
    public IReadOnlyList<LoraAdapter> For(int layer, LoraTarget target) =>
        _byModule.TryGetValue((layer, target), out var list) ? list : [];

    /// <summary>The tensors that train (A and B of each adapter, a shared A once), in a fixed order.</summary>
    public IReadOnlyList<ParameterTensor> Parameters =>
        _all.SelectMany(a => new[] { a.A, a.B }).Distinct().ToArray();

    /// <summary>Number of adapter values.</summary>
    public long Count => Parameters.Sum(p => (long)p.Length);

    /// <summary>Attaches <paramref name="adapter"/> to <paramref name="target"/> of block <paramref name="layer"/>.</summary>
    public void Add(int layer, LoraTarget target, LoraAdapter adapter)
    {
        if ((uint)layer >= (uint)Config.Layers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} outside the model's {Config.Layers}");
        var (rows, columns) = LoraTargets.Shape(target, Config);
        if (adapter.InputWidth != columns || adapter.RowStart < 0 || adapter.RowStart + adapter.Rows > rows)
            throw new ArgumentException($"adapter {adapter} does not fit {LoraTargets.Name(target)} ({rows} × {columns}) of layer {layer}");
        if (!_byModule.TryGetValue((layer, target), out var list)) _byModule[(layer, target)] = list = [];
        list.Add(adapter);
        _all.Add(adapter);
    }

    /// <summary>The internal module name of an adapter on a whole target projection, e.g. layers.3.q.</summary>
    public static string Module(int layer, LoraTarget target) => $"layers.{layer}.{LoraTargets.Name(target)}";

    /// <summary>
    /// Fresh adapters for every block's <see cref="LoraSettings.Targets"/>, initialised as PEFT initialises
    /// them (A uniform, B zero: the model starts exactly at its base) from <paramref name="seed"/>.
    /// </summary>
    public static LoraAdapters Create(ModelConfig config, LoraSettings settings, ulong seed)
    {
        var adapters = new LoraAdapters(config);
        var random = new DeterministicRandom(seed);
        for (int layer = 0; layer < config.Layers; layer++)
            foreach (var target in settings.Targets)
            {
                var (rows, columns) = LoraTargets.Shape(target, config);
                var adapter = new LoraAdapter(Module(layer, target), columns, 0, rows, settings.Rank, settings.Alpha, settings.Dropout);
                adapter.Initialize(random);
                adapters.Add(layer, target, adapter);
            }
        return adapters;
    }

    /// <summary>
    /// The adapters as inference (and the PEFT writer) sees them: a view over the same A and B arrays, nothing copied.
    /// Only adapters on whole projections have that form.
    /// </summary>
    public LoraWeights ToWeights()
    {
        var updates = new List<LoraUpdate>();
        foreach (var ((layer, target), list) in _byModule)
            foreach (var adapter in list)
            {
                if (adapter.RowStart != 0 || adapter.Rows != LoraTargets.Shape(target, Config).Rows)
                    throw new InvalidOperationException($"adapter {adapter} covers a slice of {LoraTargets.Name(target)}; only whole projections can be saved or served");
                updates.Add(new LoraUpdate(layer, target, adapter.A.Values, adapter.B.Values, adapter.Rank, adapter.Scale));
            }
        return new LoraWeights(Config, updates);
    }

    /// <summary>
    /// Adapters holding a copy of <paramref name="weights"/> (a read PEFT adapter): updates that share an A (the parts of
    /// one fused module) share it here too. They train only when <paramref name="trainable"/>.
    /// </summary>
    public static LoraAdapters From(LoraWeights weights, bool trainable = false)
    {
        var adapters = new LoraAdapters(weights.Config);
        var shared = new Dictionary<float[], ParameterTensor>(ReferenceEqualityComparer.Instance);
        foreach (var update in weights.Updates)
        {
            shared.TryGetValue(update.A, out var a);
            // α is only reported; the scale is the update's own (α / √r for rank-stabilised adapters).
            var adapter = new LoraAdapter(Module(update.Layer, update.Target), update.Inputs, 0, update.Rows, update.Rank, update.Scale * update.Rank, 0,
                trainable, update.Scale, a);
            if (a is null) { update.A.CopyTo(adapter.A.Values, 0); shared[update.A] = adapter.A; }
            update.B.CopyTo(adapter.B.Values, 0);
            adapters.Add(update.Layer, update.Target, adapter);
        }
        return adapters;
    }
}
