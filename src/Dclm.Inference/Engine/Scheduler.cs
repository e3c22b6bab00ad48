namespace Dclm.Inference.Engine;

/// <summary>What one engine step runs: token chunks per sequence, new admissions and preemptions.</summary>
internal sealed class SchedulePlan
{
    /// <summary>Sequences and how many of their uncomputed tokens run this step, in batch order.</summary>
    public List<(Sequence Sequence, int Count)> Chunks { get; } = [];
    /// <summary>Waiting sequences that get a slot this step (they also appear in <see cref="Chunks"/>).</summary>
    public List<Sequence> Admitted { get; } = [];
    /// <summary>Running sequences that give their slot back and return to the queue, to be recomputed later.</summary>
    public List<Sequence> Preempted { get; } = [];
    /// <summary>Blocks ran short and the prefix cache could give some back: evict one entry and schedule again.</summary>
    public bool NeedsEviction { get; set; }
    public int TokenCount { get; set; }
}

/// <summary>
/// Decides what the next step runs, from sequence bookkeeping and block counts alone (it never touches
/// tensors). Running decodes go first (one token each, oldest first), then running prefills in
/// chunks, then waiting requests in arrival order while slots, the token budget and free blocks last
/// (one marked <see cref="Sequence.Deferred"/> lets those behind it go first).
/// When a running sequence cannot grow, the prefix cache is evicted first; only then is the newest
/// running sequence preempted (its KV dropped, to be recomputed when it is admitted again).
/// </summary>
internal sealed class Scheduler(int maxRunning, int tokenBudget)
{
    public SchedulePlan Schedule(IReadOnlyList<Sequence> running, IReadOnlyList<Sequence> waiting, IBlockLedger ledger, int freeSlots, bool canEvict)
    {
        var plan = new SchedulePlan();
        int budget = tokenBudget, free = ledger.FreeBlocks;
        var scheduled = new HashSet<Sequence>();
        foreach (bool decodePhase in (ReadOnlySpan<bool>)[true, false])
        {
            foreach (var sequence in running)
            {
                if (budget == 0) break;
                if ((sequence.Uncomputed == 1) != decodePhase || plan.Preempted.Contains(sequence)) continue;
                int count = FitToBlocks(ledger, sequence.Slot, sequence.Computed, Math.Min(sequence.Uncomputed, budget), free, out int blocks);
                if (count == 0)
                {
                    if (canEvict) { plan.NeedsEviction = true; return plan; }
                    // The newest sequence not yet scheduled yields; when that is this one, it yields itself.
                    var victim = running.Last(s => !scheduled.Contains(s) && !plan.Preempted.Contains(s));
                    plan.Preempted.Add(victim);
                    continue;
                }
                free -= blocks;
                budget -= count;
                plan.Chunks.Add((sequence, count));
                scheduled.Add(sequence);
            }
        }
        if (plan.Preempted.Count > 0) return Finish(plan);

        int runningCount = running.Count;
        foreach (var sequence in waiting)
        {
            if (runningCount >= maxRunning || freeSlots == 0 || budget == 0) break;
            if (sequence.Deferred) continue;
            int reuse = sequence.Match?.Length ?? 0;
            int count = Math.Min(sequence.Tokens.Count - reuse, budget);
            while (count > 0 && NewBlocks(reuse, count, ledger.BlockSize) > free)
                count = LargestFit(reuse, count, free, ledger.BlockSize);
            if (count == 0)
            {
                // Live requests outrank cached prefixes.
                if (canEvict) plan.NeedsEviction = true;
                break;
            }
            free -= NewBlocks(reuse, count, ledger.BlockSize);
            budget -= count;
            runningCount++;
            freeSlots--;
            plan.Admitted.Add(sequence);
            plan.Chunks.Add((sequence, count));
        }
        return Finish(plan);
    }

    private static SchedulePlan Finish(SchedulePlan plan)
    {
        foreach (var (_, count) in plan.Chunks) plan.TokenCount += count;
        return plan;
    }

    /// <summary>The most of <paramref name="count"/> tokens the slot can take within <paramref name="free"/> blocks.</summary>
    private static int FitToBlocks(IBlockLedger ledger, int slot, int computed, int count, int free, out int blocks)
    {
        blocks = ledger.BlocksNeeded(slot, computed + count);
        if (blocks <= free) return count;
        int low = 0, high = count - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (ledger.BlocksNeeded(slot, computed + middle) <= free) low = middle; else high = middle - 1;
        }
        blocks = low == 0 ? 0 : ledger.BlocksNeeded(slot, computed + low);
        return low;
    }

    /// <summary>
    /// Blocks a new sequence takes when it shares the first <paramref name="reuse"/> positions of a
    /// cached slot and writes <paramref name="count"/> more: fresh blocks past the shared ones, plus a
    /// private copy of the shared last block when the prefix ends inside it.
    /// </summary>
    internal static int NewBlocks(int reuse, int count, int blockSize)
    {
        if (count == 0) return 0;
        int shared = (reuse + blockSize - 1) / blockSize;
        return (reuse + count + blockSize - 1) / blockSize - shared + (reuse % blockSize != 0 ? 1 : 0);
    }

    private static int LargestFit(int reuse, int count, int free, int blockSize)
    {
        int low = 0, high = count - 1;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (NewBlocks(reuse, middle, blockSize) <= free) low = middle; else high = middle - 1;
        }
        return low;
    }
}
