using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Models;

namespace Dclm.Inference.Tests;

/// <summary>The scheduler's decisions from counts alone, and its block arithmetic against the real cache.</summary>
public sealed class SchedulerTests
{
    /// <summary>Block counts as a test sets them; records the slots the scheduler shares and frees.</summary>
    private sealed class FakeLedger(int blockSize, int free, Func<int, int, int> needed) : IBlockLedger
    {
        public int BlockSize => blockSize;
        public int FreeBlocks { get; set; } = free;
        public Func<int, int, int> Needed { get; set; } = needed;
        public List<(int Source, int Target, int Length)> Shared { get; } = [];
        public List<int> Freed { get; } = [];
        public int BlocksNeeded(int slot, int length) => Needed(slot, length);
        public bool CanResume(int slot, int length) => true;
        public void Share(int source, int target, int length) => Shared.Add((source, target, length));
        public void Truncate(int slot, int length) { if (length == 0) Freed.Add(slot); }
    }

    private static Sequence Make(long id, params int[] prompt) =>
        new(id, GenerationRequest.Unchecked(prompt, SamplingOptions.Greedy), vocabularySize: 200, tokenizer: null, maxDraftTokens: 4);

    private static int[] Run(int from, int count) => Enumerable.Range(from, count).ToArray();

    /// <summary>What the runner and output processor do with a step: each chunk computed, a token drawn where one ends its sequence.</summary>
    private static void Apply(SchedulerOutput output)
    {
        foreach (var (sequence, count, drafts) in output.Chunks)
        {
            sequence.Computed += count - drafts;
            if (sequence.Computed == sequence.Tokens.Count) sequence.Tokens.Add(7);
        }
    }

    [Theory]
    [InlineData(0, 1, 4)]
    [InlineData(0, 16, 4)]
    [InlineData(5, 3, 4)]
    [InlineData(8, 1, 4)]
    [InlineData(7, 9, 4)]
    [InlineData(31, 40, 16)]
    public void NewBlocksForASharedPrefixEqualWhatTheCacheTakes(int reuse, int count, int blockSize)
    {
        using var loaded = ModelLoader.Load(TinyModel.Path);
        var cache = new KvCache(loaded.Config, slots: 2, capacity: 128, blockSize, blocks: 64);
        var tokens = new int[reuse + count];
        var logits = new float[loaded.Config.VocabularySize];
        if (reuse > 0) loaded.Model.Forward(ForwardBatch.Sequence(tokens.AsSpan(0, reuse), 0, slot: 0), cache, logits);
        int free = cache.FreeBlocks;
        if (reuse > 0) cache.CopyPrefix(0, 1, reuse);
        int predicted = Scheduler.NewBlocks(reuse, count, blockSize);
        loaded.Model.Forward(ForwardBatch.Sequence(tokens.AsSpan(reuse, count), reuse, slot: 1), cache, logits);
        Assert.Equal(free - cache.FreeBlocks, predicted);
    }

    [Fact]
    public void DecodesGoFirstThenPrefillsShareWhatIsLeftOfTheBudget()
    {
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 32, new FakeLedger(16, 100, (_, _) => 0), slots: 4, prefixEntries: 0);
        var decoding = Make(1, Run(1, 10));
        var prefilling = Make(2, Run(20, 100));
        scheduler.Add(decoding);
        scheduler.Add(prefilling);
        var first = scheduler.Schedule();
        Assert.Equal([new ScheduledChunk(decoding, 10), new ScheduledChunk(prefilling, 22)], first.Chunks);
        Assert.Equal(2, first.FirstAdmissions);
        Apply(first);

        var waiting = Make(3, Run(200, 50));
        scheduler.Add(waiting);
        var second = scheduler.Schedule();
        Assert.Equal([new ScheduledChunk(decoding, 1), new ScheduledChunk(prefilling, 31)], second.Chunks);
        Assert.Equal(0, second.FirstAdmissions);
        Assert.Equal(32, second.TokenCount);
        Assert.Equal([waiting], scheduler.Waiting);
    }

    [Fact]
    public void DraftsTakeOnlyTheBudgetThatDecodesAndPrefillsLeave()
    {
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 16, new FakeLedger(16, 100, (_, _) => 0), slots: 4, prefixEntries: 0);
        var decoding = Make(1, Run(1, 10));
        var prefilling = Make(2, Run(20, 30));
        scheduler.Add(decoding);
        scheduler.Add(prefilling);
        Apply(scheduler.Schedule());
        decoding.DraftCount = 4;
        var full = scheduler.Schedule();
        Assert.Equal([new ScheduledChunk(decoding, 1), new ScheduledChunk(prefilling, 15)], full.Chunks);
        Apply(full);
        // 1 decode + the prefill's last 9 tokens leave 6 of the 16: all four draft tokens run after the decode's one.
        var spare = scheduler.Schedule();
        Assert.Equal([new ScheduledChunk(decoding, 5, 4), new ScheduledChunk(prefilling, 9)], spare.Chunks);
        Assert.Equal(14, spare.TokenCount);
    }

    [Fact]
    public void DraftsTakeOnlyFreeBlocksAndNeverPreempt()
    {
        // Growing past 13 positions takes a block, and none is free: two of the four draft tokens fit.
        var ledger = new FakeLedger(16, 1, (_, length) => length > 13 ? 1 : 0);
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 64, ledger, slots: 4, prefixEntries: 0);
        var decoding = Make(1, Run(1, 10));
        scheduler.Add(decoding);
        Apply(scheduler.Schedule());
        ledger.FreeBlocks = 0;
        decoding.DraftCount = 4;
        var output = scheduler.Schedule();
        Assert.Equal([new ScheduledChunk(decoding, 3, 2)], output.Chunks);
        Assert.False(output.Preempted);
    }

    [Fact]
    public void WaitingRequestsAreAdmittedInOrderWhileSlotsAndBlocksLast()
    {
        // 3 free blocks of 16: the first needs 2, the second gets the one left (16 of its 20 tokens).
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 256, new FakeLedger(16, 3, (_, _) => 0), slots: 4, prefixEntries: 0);
        var first = Make(1, Run(1, 20));
        var second = Make(2, Run(100, 20));
        scheduler.Add(first);
        scheduler.Add(second);
        var output = scheduler.Schedule();
        Assert.Equal([new ScheduledChunk(first, 20), new ScheduledChunk(second, 16)], output.Chunks);
        Assert.Equal([first, second], scheduler.Running);
        Assert.Empty(scheduler.Waiting);
    }

    [Fact]
    public void AWaitingTwinDefersToTheSequenceAheadAndThenReusesItsBlocks()
    {
        // n choices of one prompt: the twin waits while the first computes the shared blocks; the third, sharing
        // nothing, is not held up behind it.
        var ledger = new FakeLedger(16, 100, (_, _) => 0);
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 256, ledger, slots: 4, prefixEntries: 0);
        var first = Make(1, Run(1, 20));
        var twin = Make(2, Run(1, 20));
        var third = Make(3, Run(100, 10));
        foreach (var sequence in new[] { first, twin, third }) scheduler.Add(sequence);
        var output = scheduler.Schedule();
        Assert.Equal([first, third], output.Chunks.Select(c => c.Sequence));
        Assert.Equal([twin], scheduler.Waiting);
        Apply(output);

        // Now the first holds 20 computed positions: one whole block of 16 is the twin's to share.
        var next = scheduler.Schedule();
        Assert.Contains(new ScheduledChunk(twin, 4), next.Chunks);
        Assert.Equal(16, twin.Computed);
        Assert.Equal(16, twin.CachedTokens);
        Assert.Equal((first.Slot, twin.Slot, 16), ledger.Shared.Single());
        Assert.Equal(16, scheduler.PrefixHitTokens);
    }

    [Fact]
    public void AStarvedSequenceEvictsTheCacheFirstAndPreemptsTheNewestOnlyWithoutIt()
    {
        var ledger = new FakeLedger(16, 100, (_, _) => 0);
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 256, ledger, slots: 4, prefixEntries: 1);
        var done = Make(1, Run(50, 16));
        var old = Make(2, Run(1, 16));
        var young = Make(3, Run(100, 16));
        foreach (var sequence in new[] { done, old, young }) scheduler.Add(sequence);
        Apply(scheduler.Schedule());
        scheduler.Finish(done);
        Assert.Equal(1, scheduler.PrefixCacheEntries);

        // No block is free and each decode needs one: the cached entry goes first, then the newest running sequence.
        (ledger.FreeBlocks, ledger.Needed) = (0, (_, _) => 1);
        int youngSlot = young.Slot;
        var output = scheduler.Schedule();
        Assert.Equal(0, scheduler.PrefixCacheEntries);
        Assert.True(output.Preempted);
        Assert.Empty(output.Chunks);
        Assert.Equal(1, scheduler.Preemptions);
        Assert.Equal([old], scheduler.Running);
        Assert.Equal([young], scheduler.Waiting);
        Assert.Equal((-1, 0), (young.Slot, young.Computed));
        Assert.Equal(2, ledger.Freed.Count);
        Assert.Equal(youngSlot, ledger.Freed[^1]);
    }

    [Fact]
    public void ThePrefixCacheFindsTheLongestSharedPrefixAndDropsEntriesASuccessorContains()
    {
        var cache = new PrefixCache(capacity: 2);
        Assert.Empty(cache.Add(0, [1, 2, 3]));
        Assert.Empty(cache.Add(1, [1, 2, 9, 9]));
        Assert.Equal(new PrefixMatch(0, 3), cache.Find([1, 2, 3, 4, 5]));
        Assert.Equal(new PrefixMatch(0, 2), cache.Find([1, 2, 3]));
        Assert.Equal([0], cache.Add(2, [1, 2, 3, 4]));
        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Find([5, 6]));
        Assert.Equal([1], cache.Add(3, [8, 8]));
    }
}
