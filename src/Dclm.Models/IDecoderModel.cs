using Dclm.Tensors.Compute;

namespace Dclm.Models;

/// <summary>
/// The seam every caller of a forward step goes through: the batching engine, the generators and the CLI run a model
/// through this, whether its layers run on the CPU (<see cref="DecoderModel"/>) or on an accelerator (Dclm.Gpu). A model
/// makes its own caches, so keys and values live where its layers run; the block bookkeeping is always a
/// <see cref="KvCache"/>'s.
/// </summary>
public interface IDecoderModel : IDisposable
{
    /// <summary>Hyper-parameters.</summary>
    ModelConfig Config { get; }

    /// <summary>CPU threads for the work around a step (sampling, log-probabilities).</summary>
    ComputePool Pool { get; }

    /// <summary>
    /// A cache of <paramref name="blocks"/> blocks of <paramref name="blockSize"/> positions shared by
    /// <paramref name="slots"/> sequences of up to <paramref name="capacity"/> positions each (see <see cref="KvCache"/>).
    /// </summary>
    KvCache CreateCache(int slots, int capacity, int blockSize, int blocks, KvCacheType type, bool rolling = true);

    /// <summary>
    /// Runs every token of <paramref name="batch"/>, appends their keys and values to <paramref name="cache"/> (one this
    /// model made), and writes the logits of the rows named by <see cref="ForwardBatch.LogitRows"/> into
    /// <paramref name="logits"/>. (rows, vocab)
    /// <paramref name="cancellation"/> is checked between layers: a cancelled step throws <see cref="OperationCanceledException"/>
    /// and leaves the cache as it was before the step (no position of the batch counted as written, no block held past a
    /// slot's length; a shared block the step had to copy stays copied), so the same batch can run again.
    /// </summary>
    void Forward(ForwardBatch batch, KvCache cache, Span<float> logits, CancellationToken cancellation = default);
}

/// <summary>Shorthands over <see cref="IDecoderModel"/>.</summary>
public static partial class DecoderModelExtensions
{
    /// <summary>A cache of <paramref name="slots"/> sequences of <paramref name="capacity"/> positions (the context by default), all of which fit at once.</summary>
    public static KvCache CreateCache(this IDecoderModel model, int slots = 1, int? capacity = null, KvCacheType type = KvCacheType.F32)
    {
        int positions = capacity ?? model.Config.ContextLength;
        int blockSize = KvCache.DefaultBlockSize;
        return model.CreateCache(slots, positions, blockSize, slots * ((positions + blockSize - 1) / blockSize), type);
    }
}
