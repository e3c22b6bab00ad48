using Dclm.Tensors.Compute;

namespace Dclm.Models.Projections;

/// <summary>
/// The rows a <see cref="Projection"/> multiplies: row r is token <see cref="Token"/>(r) of <see cref="Batch"/>, so an
/// adapter knows which sequence (<see cref="Slot"/>) each row belongs to. Within the layers, row r is token r; at the output
/// head, rows are the batch's <see cref="ForwardBatch.LogitRows"/>. Products split their work over <see cref="Pool"/>.
/// </summary>
public readonly struct ProjectionRows
{
    private readonly int[]? _tokens;

    private ProjectionRows(ForwardBatch batch, ComputePool pool, int[]? tokens, int count)
    {
        Batch = batch;
        Pool = pool;
        _tokens = tokens;
        Count = count;
    }

    /// <summary>One row per token of <paramref name="batch"/>, in order.</summary>
    public static ProjectionRows Tokens(ForwardBatch batch, ComputePool pool) => new(batch, pool, null, batch.Count);

    /// <summary>One row per entry of <paramref name="batch"/>'s <see cref="ForwardBatch.LogitRows"/>.</summary>
    public static ProjectionRows Logits(ForwardBatch batch, ComputePool pool) => new(batch, pool, batch.LogitRows, batch.LogitRowCount);

    /// <summary>The step's batch (for a step split by sequence, the group this thread runs).</summary>
    public ForwardBatch Batch { get; }
    /// <summary>Threads the product may split over.</summary>
    public ComputePool Pool { get; }
    /// <summary>Number of rows.</summary>
    public int Count { get; }

    /// <summary>The index in <see cref="Batch"/> of the token row <paramref name="row"/> belongs to.</summary>
    public int Token(int row) => _tokens is null ? row : _tokens[row];

    /// <summary>The KV-cache slot, i.e. the sequence, of row <paramref name="row"/>.</summary>
    public int Slot(int row) => Batch.Slots[Token(row)];
}
