using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Models;

namespace Dclm.Server.Tests;

/// <summary>The scheduler's decisions from counts alone, and its block arithmetic against the real cache.</summary>
public sealed class SchedulerTests
{
    private sealed class FakeLedger(int blockSize, int free, Func<int, int, int> needed) : IBlockLedger
    {
        public int BlockSize => blockSize;
        public int FreeBlocks => free;
        public int BlocksNeeded(int slot, int length) => needed(slot, length);
    }

    private static Sequence Make(long id, int promptLength, int computed, int slot)
    {
        var request = new GenerationRequest(new int[promptLength], SamplingOptions.Greedy, []);
        return new Sequence(id, request, vocabularySize: 4, tokenizer: null) { Computed = computed, Slot = slot };
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
        var decoding = Make(1, promptLength: 10, computed: 9, slot: 0);
        var prefilling = Make(2, promptLength: 100, computed: 20, slot: 1);
        var waiting = Make(3, promptLength: 50, computed: 0, slot: -1);
        var plan = new Scheduler(maxRunning: 4, tokenBudget: 32)
            .Schedule([decoding, prefilling], [waiting], new FakeLedger(16, 100, (_, _) => 0), freeSlots: 4, canEvict: false);
        Assert.Equal([(decoding, 1), (prefilling, 31)], plan.Chunks);
        Assert.Empty(plan.Admitted);
        Assert.Equal(32, plan.TokenCount);
    }

    [Fact]
    public void WaitingRequestsAreAdmittedInOrderWhileSlotsAndBlocksLast()
    {
        var first = Make(1, promptLength: 20, computed: 0, slot: -1);
        var second = Make(2, promptLength: 20, computed: 0, slot: -1);
        // 3 free blocks of 16: the first needs 2, the second gets the one left (16 of its 20 tokens).
        var plan = new Scheduler(maxRunning: 4, tokenBudget: 256)
            .Schedule([], [first, second], new FakeLedger(16, 3, (_, _) => 0), freeSlots: 4, canEvict: false);
        Assert.Equal([first, second], plan.Admitted);
        Assert.Equal([(first, 20), (second, 16)], plan.Chunks);
    }

    [Fact]
    public void ADeferredRequestLetsTheOnesBehindItIn()
    {
        var first = Make(1, promptLength: 20, computed: 0, slot: -1);
        var twin = Make(2, promptLength: 20, computed: 0, slot: -1);
        var third = Make(3, promptLength: 10, computed: 0, slot: -1);
        twin.Deferred = true;
        var plan = new Scheduler(maxRunning: 4, tokenBudget: 256)
            .Schedule([], [first, twin, third], new FakeLedger(16, 10, (_, _) => 0), freeSlots: 4, canEvict: false);
        Assert.Equal([first, third], plan.Admitted);
    }

    [Fact]
    public void AStarvedSequenceAsksForEvictionFirstAndPreemptsTheNewestOnlyWithoutCache()
    {
        var old = Make(1, promptLength: 16, computed: 16, slot: 0);
        old.Tokens.Add(7);
        var young = Make(2, promptLength: 16, computed: 16, slot: 1);
        young.Tokens.Add(7);
        var ledger = new FakeLedger(16, 0, (_, _) => 1);
        var scheduler = new Scheduler(maxRunning: 4, tokenBudget: 256);
        Assert.True(scheduler.Schedule([old, young], [], ledger, freeSlots: 2, canEvict: true).NeedsEviction);
        var plan = scheduler.Schedule([old, young], [], ledger, freeSlots: 2, canEvict: false);
        Assert.Equal([young], plan.Preempted);
        Assert.Empty(plan.Chunks);
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
