using Dclm.Models.Blocks;
using Dclm.Models.Projections;
using Dclm.Models.TensorParallel;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Ops;

namespace Dclm.Models;

/// <summary>
/// A decoder-only transformer that runs forward steps over batches of tokens from one or more sequences, reading and
/// extending a <see cref="KvCache"/>: each layer runs its <see cref="Architecture"/>'s block, every matrix product through
/// <see cref="Projections"/>.
/// </summary>
public sealed partial class DecoderModel : IDecoderModel
{
    /// <summary>
    /// Layer weights up to this size (a last-level cache's worth) run <see cref="LayerParallelism.Auto"/>
    /// by sequence: their products are small enough that a fork/join per product costs a large share of
    /// them, and the second thread to read a weight finds it in the shared cache. Larger layers split
    /// rows, so their weights stream from memory once per step.
    /// </summary>
    public const long SequenceSplitLayerBytes = 32L << 20;

    // Per layer: RoPE frequencies (headDim/2); whether every layer shares the first's, so angles are computed once per token.
    private readonly float[][] _inverseFrequencies;
    private readonly bool _sharedFrequencies;
    private readonly DecoderBlock _block;
    private readonly LayerProjections[] _projections;
    private Projection _head;
    private readonly long _layerBytes;
    // The whole batch's lane, and one per thread for steps split by sequence.
    private readonly LayerStep _main;
    private readonly LayerStep[] _lanes;
    private readonly SequenceGroupsJob _groupsJob;
    private readonly ComputePool _inline = new(1);
    private readonly object _gate = new();
    // Reused by every step, so a step allocates nothing: the split by sequence, and ValidateBatch's per-slot ends.
    private readonly SequenceGroups _groups = new();
    private readonly BatchValidation _validation = new();

    public DecoderModel(ModelConfig config, ModelWeights weights, ComputePool? pool = null) : this(config, weights, pool, null) { }

    /// <summary>A whole model, or with <paramref name="shards"/> one rank's shard of it (<see cref="Sharded"/>).</summary>
    private DecoderModel(ModelConfig config, ModelWeights weights, ComputePool? pool, TensorParallelism? shards)
    {
        Config = config.Validate();
        weights.Validate(config);
        Weights = weights;
        Pool = pool ?? ComputePool.Shared;
        var derived = RotaryEmbedding.InverseFrequencies(config.HeadDim, config.RopeTheta);
        _inverseFrequencies = weights.Layers.Select(l => l.RopeInverseFrequency ?? derived).ToArray();
        _sharedFrequencies = _inverseFrequencies.All(f => f.AsSpan().SequenceEqual(_inverseFrequencies[0]));
        _block = config.Architecture.CreateBlock(config);
        _projections = weights.Layers.Select(l => new LayerProjections(l)).ToArray();
        TensorParallel = shards;
        if (shards is not null)
            foreach (var p in _projections)
            {
                p.Output = new ShardSumProjection(p.Output, shards.Group);
                p.Down = new ShardSumProjection(p.Down, shards.Group);
            }
        _head = Projection.FromWeights(weights.Output);
        _layerBytes = weights.Layers.Sum(l => l.Query.ByteLength + l.Key.ByteLength + l.Value.ByteLength + l.Output.ByteLength
            + l.Gate.ByteLength + l.Up.ByteLength + l.Down.ByteLength);
        // A shard's heads are heads [r·H/N, (r+1)·H/N) of the whole model, with their slopes.
        float[]? slopes = !config.UsesAlibi ? null : shards is null ? AlibiSlopes.For(config.Heads)
            : AlibiSlopes.For(shards.Model.Heads).AsSpan(shards.Rank * config.Heads, config.Heads).ToArray();
        _main = new LayerStep(config, slopes) { Shards = shards };
        _lanes = Enumerable.Range(0, Pool.Threads).Select(_ => new LayerStep(config, slopes) { Shards = shards }).ToArray();
        _groupsJob = new SequenceGroupsJob(this);
    }

    /// <summary>Hyper-parameters (of this rank's shard when <see cref="TensorParallel"/> is set: H/N heads, hidden/N units).</summary>
    public ModelConfig Config { get; }
    /// <summary>The split over ranks when this model is one rank's shard of a larger one; null for a whole model.</summary>
    public TensorParallelism? TensorParallel { get; }
    /// <summary>Weights (views into their files).</summary>
    public ModelWeights Weights { get; }
    /// <summary>Threads the matrix products run on.</summary>
    public ComputePool Pool { get; }
    /// <summary>How steps spread their layers over <see cref="Pool"/>; the logits are the same either way.</summary>
    public LayerParallelism LayerParallelism { get; set; } = LayerParallelism.Auto;

    /// <summary>
    /// Each layer's matrix products, through which every product of a step runs (see <see cref="Projection"/>). A projection
    /// may be replaced by one of the same shape (an adapter wrapping it, another layout) between steps, not during one.
    /// </summary>
    public IReadOnlyList<LayerProjections> Projections => _projections;

    /// <summary>The output head, logits = W_out·n(x) for the logit rows: (vocab) from (dim). Replaceable as <see cref="Projections"/> are.</summary>
    public Projection Head { get => _head; set => _head = LayerProjections.Replace(_head, value); }

    /// <summary>A KV cache sized for this model.</summary>
    public KvCache CreateCache(int slots = 1, int? capacity = null, KvCacheType type = KvCacheType.F32)
    {
        int positions = capacity ?? Config.ContextLength;
        int blockSize = KvCache.DefaultBlockSize;
        return new KvCache(Config, slots, positions, blockSize, slots * ((positions + blockSize - 1) / blockSize), type);
    }

    KvCache IDecoderModel.CreateCache(int slots, int capacity, int blockSize, int blocks, KvCacheType type, bool rolling) =>
        new(Config, slots, capacity, blockSize, blocks, type, rolling);

    /// <summary>
    /// Runs every token of <paramref name="batch"/> through the model, appends their keys and values to
    /// <paramref name="cache"/>, and writes the logits of the rows named by <see cref="ForwardBatch.LogitRows"/>
    /// into <paramref name="logits"/>. (rows, vocab)
    /// Calls are serialised: one forward step at a time per model. <paramref name="cancellation"/> is checked before each
    /// layer (not inside a tensor-parallel shard, whose ranks must make the same collective calls): a cancelled step throws
    /// <see cref="OperationCanceledException"/> and leaves <paramref name="cache"/> as it was.
    /// </summary>
    public void Forward(ForwardBatch batch, KvCache cache, Span<float> logits, CancellationToken cancellation = default)
    {
        lock (_gate)
        {
            _validation.Check(Config, batch, cache, logits.Length, Config.VocabularySize, "logits");
            if (cache.Storage is not null) throw new ArgumentException("the KV cache keeps its keys and values on a device; use a cache this model made (CreateCache)");
            if (!RunToFinalNorm(batch, cache, cancellation)) return;
            // logits = W_out·n(x), only for the rows that want them (the head is the largest product).
            _head.Apply(ProjectionRows.Logits(batch, Pool), _main.State.Normed, logits);
        }
    }

    /// <summary>
    /// The same step as <see cref="Forward"/>, stopped before the head: writes n(x), the final norm of the last layer's
    /// output, for the rows named by <see cref="ForwardBatch.LogitRows"/> into <paramref name="hidden"/>. (rows, dim)
    /// These are the states that embeddings pool (llama.cpp's <c>--embeddings</c>); W_out·hidden[r] is row r's logits.
    /// Cancelled as <see cref="Forward"/> is.
    /// </summary>
    public void ForwardHidden(ForwardBatch batch, KvCache cache, Span<float> hidden, CancellationToken cancellation = default)
    {
        lock (_gate)
        {
            _validation.Check(Config, batch, cache, hidden.Length, Config.Dim, "hidden");
            if (cache.Storage is not null) throw new ArgumentException("the KV cache keeps its keys and values on a device; use a cache this model made (CreateCache)");
            if (!RunToFinalNorm(batch, cache, cancellation)) return;
            _main.State.Normed.AsSpan(0, batch.LogitRowCount * Config.Dim).CopyTo(hidden);
        }
    }

    /// <summary>Runs the layers and leaves n(x) of the logit rows in the main lane's <c>Normed</c>, (rows, dim); false for an empty batch.</summary>
    private bool RunToFinalNorm(ForwardBatch batch, KvCache cache, CancellationToken cancellation)
    {
        int n = batch.Count, d = Config.Dim;
        if (n == 0) return false;
        // A shard never stops between layers: the other ranks would wait in the next all-reduce for ever.
        if (TensorParallel is not null) cancellation = CancellationToken.None;
        var s = _main.State;
        try
        {
            // Take or unshare every block the batch writes before any tensor work, so a full cache
            // fails the step cleanly instead of half-way through.
            for (int t = 0; t < n; t++) cache.PrepareWrite(batch.Slots[t], batch.Positions[t]);
            s.Ensure(Config, n);
            var groups = ChooseGroups(batch);
            if (groups is null) RunLayers(_main, batch, cache, Pool, cancellation);
            else
            {
                _groupsJob.Start(groups, cache, cancellation);
                try { Pool.Run(_groupsJob); }
                finally { _groupsJob.Finish(); }
                for (int g = 0; g < groups.Count; g++)
                {
                    var residual = _lanes[g].State.Residual;
                    var indices = groups.Indices[g];
                    for (int k = 0; k < groups.Batches[g].Count; k++) residual.AsSpan(k * d, d).CopyTo(s.Residual.AsSpan(indices[k] * d, d));
                }
            }
        }
        catch
        {
            // Nothing was marked written, so the keys and values stored so far count for nothing; the blocks go back too.
            cache.ReleaseUnwritten(batch);
            throw;
        }
        for (int t = 0; t < n; t++) cache.MarkWritten(batch.Slots[t], batch.Positions[t]);

        int rows = batch.LogitRowCount;
        for (int r = 0; r < rows; r++)
        {
            int t = batch.LogitRows[r];
            _main.Norm(s.Residual.AsSpan(t * d, d), Weights.FinalNorm, s.Normed.AsSpan(r * d, d));
        }
        return true;
    }

    /// <summary>The batch cut into one group of sequences per thread, or null to split every product by rows.</summary>
    private SequenceGroups? ChooseGroups(ForwardBatch batch)
    {
        var mode = LayerParallelism;
        // A shard's steps are collective: one lane, so every rank makes the same calls in the same order.
        if (TensorParallel is not null || mode == LayerParallelism.Rows || Pool.Threads < 2) return null;
        if (mode == LayerParallelism.Auto && _layerBytes > SequenceSplitLayerBytes) return null;
        return _groups.TrySplit(batch, Pool.Threads) ? _groups : null;
    }

    public void Dispose()
    {
        Weights.Dispose();
        _inline.Dispose();
    }
}
