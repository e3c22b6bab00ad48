using Dclm.Gpu.Kernels;
using Dclm.Models;
using Dclm.Models.Adapters;
using ILGPU;
using ILGPU.Runtime;

namespace Dclm.Gpu;

/// <summary>
/// The LoRA adapters a <see cref="GpuDecoderModel"/> serves, on the device: every adapter's A (rank, inputs) and Bᵀ
/// (rank, part width) in f32 in one value pool (an A that several parts share, as open_lm's fused in_proj does, once),
/// a table of updates (offsets, rank, scale) and a table of heads giving each (layer, product, part, adapter) its
/// updates. Per step the model stages each token's adapter id; after each of a layer's four products
/// <see cref="Add"/> launches <see cref="AdapterKernels.AddLowRank"/> once, only when a row of the step uses an adapter
/// that changes that product (<see cref="Touches"/>), so steps without adapters launch nothing more.
/// </summary>
internal sealed class DeviceAdapters : IDisposable
{
    /// <summary>Products of a layer, parts of a product: the heads table's shape, (layers, 4, 3, adapters + 1) pairs.</summary>
    private const int Products = 4, Parts = 3;

    private readonly Accelerator _accelerator;
    private readonly ModelConfig _config;
    private readonly Action<KernelConfig, AdapterViews, AdapterShape> _kernel;
    private readonly int _threads;
    // [product][part] → the target there, or null; and each product's parts' widths (output rows).
    private readonly LoraTarget?[][] _targets;
    private readonly int[][] _widths;
    private readonly List<Placed> _adapters = [];
    private MemoryBuffer1D<float, Stride1D.Dense>? _values;
    private long _valuesUsed;
    private MemoryBuffer1D<AdapterUpdate, Stride1D.Dense>? _updates;
    private MemoryBuffer1D<int, Stride1D.Dense>? _heads;
    // Per step: whether any adapted row's adapter changes (layer, product), and how many rows use an adapter.
    private readonly bool[] _stepTouches;
    private int _stepRows;

    /// <summary>The kernel's views, packed so the launch counter's three-argument wrapper counts it.</summary>
    private readonly record struct AdapterViews(ArrayView<float> X, ArrayView<int> Adapters, ArrayView<int> Heads, ArrayView<AdapterUpdate> Updates,
        ArrayView<float> Values, ArrayView<float> Y, ArrayView<float> Residual);

    /// <summary>One adapter's place on the device: its updates in (layer, product, part) order and where its values went.</summary>
    private sealed record Placed(LoraWeights Weights, AdapterUpdate[] Updates, int[] Counts, bool[] Touches, (float[] Source, long Offset)[] SharedA);

    public DeviceAdapters(Accelerator accelerator, ModelConfig config, LaunchCounter counter)
    {
        (_accelerator, _config) = (accelerator, config);
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<AdapterUpdate>, ArrayView<float>,
            AdapterShape, ArrayView<float>, ArrayView<float>>(AdapterKernels.AddLowRank);
        _kernel = counter.Wrap<KernelConfig, AdapterViews, AdapterShape>((config, v, shape) =>
            kernel(config, v.X, v.Adapters, v.Heads, v.Updates, v.Values, shape, v.Y, v.Residual));
        // Whole 8-lane dots per group, at most 256 threads (32 ranks' dots at once on a GPU, 8 on the CPU accelerator).
        _threads = Math.Min(256, accelerator.MaxNumThreadsPerGroup) / MatrixKernels.RowLanes * MatrixKernels.RowLanes;
        _targets = new LoraTarget?[Products][];
        _widths = new int[Products][];
        for (int p = 0; p < Products; p++) (_targets[p], _widths[p]) = (new LoraTarget?[Parts], new int[Parts]);
        foreach (var target in LoraTargets.All)
        {
            var (product, part) = LoraTargets.Placement(target);
            _targets[(int)product][part] = target;
            _widths[(int)product][part] = LoraTargets.Shape(target, config).Rows;
        }
        _stepTouches = new bool[config.Layers * Products];
    }

    /// <summary>Adapters held (ids 1..Count).</summary>
    public int Count => _adapters.Count;

    /// <summary>Device bytes the adapters' values take.</summary>
    public long ValueBytes => _valuesUsed * sizeof(float);

    /// <summary>
    /// Holds adapter <paramref name="id"/>: the next id is added; an id already held is rewritten in place when it is the
    /// same adapter (its values changed: <see cref="AdapterSet.Refresh"/>) and placed anew otherwise. No kernel may be
    /// running on the buffers (the model waits for its stream first).
    /// </summary>
    public void Hold(int id, LoraWeights adapter)
    {
        if (id < 1 || id > _adapters.Count + 1) throw new InvalidOperationException($"adapter {id} handed to the device out of order (it holds {_adapters.Count})");
        if (adapter.Config != _config) throw new ArgumentException("the adapter was made for another model than the one on the device");
        if (id <= _adapters.Count && ReferenceEquals(_adapters[id - 1].Weights, adapter))
        {
            Write(_adapters[id - 1]);
            return;
        }
        var placed = Place(adapter);
        if (id <= _adapters.Count) _adapters[id - 1] = placed;
        else _adapters.Add(placed);
        Write(placed);
        UploadTables();
    }

    /// <summary>Lays out <paramref name="adapter"/>'s values after the pool's current end (growing the pool) and lists its updates.</summary>
    private Placed Place(LoraWeights adapter)
    {
        int layers = _config.Layers;
        var counts = new int[layers * Products * Parts];
        var touches = new bool[layers * Products];
        var updates = new List<AdapterUpdate>();
        var sharedA = new List<(float[], long)>();
        var offsets = new Dictionary<float[], long>(ReferenceEqualityComparer.Instance);
        long end = _valuesUsed;
        for (int layer = 0; layer < layers; layer++)
            for (int p = 0; p < Products; p++)
                for (int q = 0; q < Parts; q++)
                {
                    if (_targets[p][q] is not { } target) continue;
                    foreach (var u in adapter.For(layer, target))
                    {
                        if (!offsets.TryGetValue(u.A, out long a))
                        {
                            offsets[u.A] = a = end;
                            sharedA.Add((u.A, a));
                            end += u.A.Length;
                        }
                        updates.Add(new AdapterUpdate { A = a, BTransposed = end, Rank = u.Rank, Scale = u.Scale });
                        end += u.B.Length;
                        counts[(layer * Products + p) * Parts + q]++;
                        touches[layer * Products + p] = true;
                    }
                }
        Grow(end);
        return new Placed(adapter, [.. updates], counts, touches, [.. sharedA]);
    }

    /// <summary>The pool at least <paramref name="length"/> floats long, what it held kept.</summary>
    private void Grow(long length)
    {
        if (_values is not null && _values.Length >= length)
        {
            _valuesUsed = length;
            return;
        }
        var grown = _accelerator.Allocate1D<float>(Math.Max(1, length));
        if (_values is not null)
        {
            if (_valuesUsed > 0) _values.View.SubView(0, _valuesUsed).CopyTo(grown.View.SubView(0, _valuesUsed));
            _accelerator.DefaultStream.Synchronize();
            _values.Dispose();
        }
        (_values, _valuesUsed) = (grown, length);
    }

    /// <summary>Copies the adapter's A and Bᵀ (transposed from its B (rows, rank) here) to their places in the pool.</summary>
    private void Write(Placed placed)
    {
        var view = _values!.View;
        foreach (var (source, offset) in placed.SharedA) view.SubView(offset, source.Length).AsContiguous().CopyFromCPU(source);
        int index = 0;
        for (int layer = 0; layer < _config.Layers; layer++)
            for (int p = 0; p < Products; p++)
                for (int q = 0; q < Parts; q++)
                {
                    if (_targets[p][q] is not { } target) continue;
                    foreach (var u in placed.Weights.For(layer, target))
                    {
                        var transposed = new float[u.B.Length];
                        for (int row = 0; row < u.Rows; row++)
                            for (int k = 0; k < u.Rank; k++) transposed[k * u.Rows + row] = u.B[row * u.Rank + k];
                        view.SubView(placed.Updates[index++].BTransposed, transposed.Length).AsContiguous().CopyFromCPU(transposed);
                    }
                }
    }

    /// <summary>Rebuilds the update list (adapters in id order) and the heads, (first, count) per (layer, product, part, adapter).</summary>
    private void UploadTables()
    {
        int slots = _adapters.Count + 1, cells = _config.Layers * Products * Parts;
        var heads = new int[2 * cells * slots];
        var updates = new List<AdapterUpdate>();
        for (int id = 1; id < slots; id++)
        {
            var placed = _adapters[id - 1];
            int next = 0;
            for (int cell = 0; cell < cells; cell++)
            {
                int count = placed.Counts[cell];
                heads[2 * (cell * slots + id)] = updates.Count;
                heads[2 * (cell * slots + id) + 1] = count;
                for (int j = 0; j < count; j++) updates.Add(placed.Updates[next++]);
            }
        }
        _updates?.Dispose();
        _heads?.Dispose();
        _updates = _accelerator.Allocate1D(updates.Count == 0 ? [default(AdapterUpdate)] : updates.ToArray());
        _heads = _accelerator.Allocate1D(heads);
    }

    /// <summary>
    /// Writes each token's adapter id (0: the base) as <paramref name="set"/> assigns its slot into
    /// <paramref name="adapters"/>, and notes which (layer, product)s the step's adapters change; returns how many
    /// tokens use an adapter.
    /// </summary>
    public int StageRows(ForwardBatch batch, AdapterSet set, Span<int> adapters)
    {
        Array.Clear(_stepTouches);
        int count = 0;
        for (int t = 0; t < batch.Count; t++)
        {
            int id = adapters[t] = set.AdapterOf(batch.Slots[t]);
            if (id <= 0) continue;
            if (id > _adapters.Count) throw new InvalidOperationException($"slot {batch.Slots[t]} uses adapter {id}, which the device does not hold ({_adapters.Count})");
            count++;
            var touches = _adapters[id - 1].Touches;
            for (int i = 0; i < touches.Length; i++) _stepTouches[i] |= touches[i];
        }
        return _stepRows = count;
    }

    /// <summary>Whether a row of the step staged last uses an adapter that changes <paramref name="product"/> of <paramref name="layer"/>.</summary>
    public bool Touches(int layer, LayerProduct product) => _stepRows > 0 && _stepTouches[layer * Products + (int)product];

    /// <summary>
    /// y[r, part] += s·B·(A·x[r]) for the <paramref name="tokens"/> rows, each with its adapter's updates on
    /// <paramref name="product"/> of <paramref name="layer"/> (<paramref name="adapters"/> as staged): x (tokens, inputs),
    /// y (tokens, stride). With <paramref name="residual"/> valid, then residual += y for every row (y being the
    /// product's own output). Call only where <see cref="Touches"/>.
    /// </summary>
    public void Add(int layer, LayerProduct product, ArrayView<int> adapters, int tokens, ArrayView<float> x, int inputs, ArrayView<float> y, int stride,
        ArrayView<float> residual)
    {
        int p = (int)product;
        var widths = _widths[p];
        int chunkWidth = _threads * AdapterKernels.ColumnsPerThread, chunks = 0;
        foreach (int w in widths) chunks += (w + chunkWidth - 1) / chunkWidth;
        var shape = new AdapterShape
        {
            Inputs = inputs, OutputStride = stride, Offset0 = 0, Width0 = widths[0], Offset1 = widths[0], Width1 = widths[1],
            Offset2 = widths[0] + widths[1], Width2 = widths[2], ChunkWidth = chunkWidth, ChunksPerRow = chunks,
            HeadsAt = (layer * Products + p) * Parts * (_adapters.Count + 1), Slots = _adapters.Count + 1, Residual = residual.IsValid ? 1 : 0,
        };
        var views = new AdapterViews(x, adapters, _heads!.View, _updates!.View, _values!.View, y, residual.IsValid ? residual : y);
        _kernel(new KernelConfig(tokens * chunks, _threads), views, shape);
    }

    public void Dispose()
    {
        _values?.Dispose();
        _updates?.Dispose();
        _heads?.Dispose();
    }
}
