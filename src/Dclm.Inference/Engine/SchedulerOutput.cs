namespace Dclm.Inference.Engine;

/// <summary>
/// One sequence's part of a step: <see cref="Count"/> tokens from position <see cref="Sequence.Computed"/>, its next
/// uncomputed tokens followed by the first <see cref="Drafts"/> tokens of its <see cref="Sequence.Draft"/>.
/// </summary>
internal readonly record struct ScheduledChunk(Sequence Sequence, int Count, int Drafts = 0);

/// <summary>What one engine step runs, as the <see cref="Scheduler"/> decided it; one instance, refilled every step.</summary>
internal sealed class SchedulerOutput
{
    private readonly List<ScheduledChunk> _chunks = [];

    /// <summary>Sequences and how many of their uncomputed tokens run this step, in batch order: decodes, prefills, then new admissions.</summary>
    public IReadOnlyList<ScheduledChunk> Chunks => _chunks;
    /// <summary>Tokens in all chunks.</summary>
    public int TokenCount { get; private set; }
    /// <summary>Sequences admitted for the first time this step (they leave the waiting queue's count).</summary>
    public int FirstAdmissions { get; set; }
    /// <summary>Whether running sequences were pushed back to the queue this step (progress, even with no chunks).</summary>
    public bool Preempted { get; set; }

    public void Add(Sequence sequence, int count)
    {
        _chunks.Add(new ScheduledChunk(sequence, count));
        TokenCount += count;
    }

    /// <summary>Appends <paramref name="drafts"/> draft tokens to chunk <paramref name="index"/>, a one-token decode.</summary>
    public void AddDrafts(int index, int drafts)
    {
        var chunk = _chunks[index];
        _chunks[index] = chunk with { Count = chunk.Count + drafts, Drafts = drafts };
        TokenCount += drafts;
    }

    public void Clear()
    {
        _chunks.Clear();
        TokenCount = 0;
    }
}
