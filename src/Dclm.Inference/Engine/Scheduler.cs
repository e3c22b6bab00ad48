namespace Dclm.Inference.Engine;

/// <summary>
/// Decides what each engine step runs and places sequences in the KV pool, from sequence bookkeeping and block
/// counts alone (it never touches keys or values). It owns the waiting and running queues, the free slots, the
/// prefix cache of finished sequences and prefix matching: a waiting prompt reuses the longest start it shares with
/// a cached or running sequence on the same LoRA adapter, or waits a step when one ahead of it is about to compute a
/// longer shared start.
/// Running decodes go first (one token each, oldest first), then running prefills in chunks, then waiting requests in
/// arrival order while slots, the token budget and free blocks last; what is left lets decodes check their drafts. When a running sequence cannot grow, the prefix
/// cache is evicted first; only then is the newest running sequence preempted (its KV dropped, to be recomputed when
/// it is admitted again). Engine thread only; every buffer is reused, so a step allocates nothing.
/// </summary>
internal sealed class Scheduler
{
    private const byte Unplanned = 0, Planned = 1, Preempting = 2;

    private readonly int _maxRunning, _tokenBudget;
    private readonly IBlockLedger _ledger;
    private readonly PrefixCache _prefix;
    // The ledger's CanResume, made once: a rolling cache may no longer hold the start a match needs.
    private readonly Func<int, int, bool> _canResume;
    private readonly Stack<int> _freeSlots;
    private readonly List<Sequence> _running = [], _waiting = [];
    private readonly SchedulerOutput _output = new();
    // Per running sequence (by index) during planning: Unplanned, Planned or Preempting.
    private readonly byte[] _runningState;
    // Per waiting sequence (by index) during planning: its prefix match, and whether it defers to one ahead of it.
    private PrefixMatch[] _matches = new PrefixMatch[16];
    private bool[] _deferred = new bool[16];
    // The plan's preemptions and admissions (waiting indices), applied once planning settles.
    private readonly List<Sequence> _preempt = [];
    private readonly List<Sequence> _admit = [];
    private bool _needsEviction;

    /// <param name="maxRunning">Most sequences that hold a slot at once.</param>
    /// <param name="tokenBudget">Most tokens one step runs.</param>
    /// <param name="ledger">The KV pool's block counts and tables.</param>
    /// <param name="slots">Slots in the pool: running sequences and prefix-cache entries together.</param>
    /// <param name="prefixEntries">Finished sequences kept for prefix reuse.</param>
    public Scheduler(int maxRunning, int tokenBudget, IBlockLedger ledger, int slots, int prefixEntries)
    {
        (_maxRunning, _tokenBudget, _ledger) = (maxRunning, tokenBudget, ledger);
        _prefix = new PrefixCache(prefixEntries);
        _canResume = ledger.CanResume;
        _freeSlots = new Stack<int>(Enumerable.Range(0, slots).Reverse());
        _runningState = new byte[maxRunning];
    }

    /// <summary>Sequences holding a slot, oldest first.</summary>
    public IReadOnlyList<Sequence> Running => _running;
    /// <summary>Sequences waiting for a slot (new or preempted), oldest first.</summary>
    public IReadOnlyList<Sequence> Waiting => _waiting;
    /// <summary>Finished sequences kept for prefix reuse.</summary>
    public int PrefixCacheEntries => _prefix.Count;
    /// <summary>Prompt tokens taken from the prefix cache or a running sequence at first admission, since start.</summary>
    public long PrefixHitTokens { get; private set; }
    /// <summary>Running sequences pushed back to the queue for lack of KV blocks, since start.</summary>
    public long Preemptions { get; private set; }

    /// <summary>Queues a new request.</summary>
    public void Add(Sequence sequence) => InsertById(_waiting, sequence);

    /// <summary>
    /// Plans the next step and applies it: preempted sequences go back to the queue without their KV, admitted ones
    /// get a slot holding whatever prefix they reuse. The output is reused by the next call.
    /// </summary>
    public SchedulerOutput Schedule()
    {
        while (true)
        {
            MatchPrefixes();
            Plan(canEvict: _prefix.Count > 0);
            if (!_needsEviction || !_prefix.TryEvict(out int slot)) break;
            Release(slot);
        }
        _output.Preempted = _preempt.Count > 0;
        foreach (var sequence in _preempt) Preempt(sequence);
        _output.FirstAdmissions = 0;
        foreach (var sequence in _admit) Admit(sequence);
        return _output;
    }

    /// <summary>Ends a running sequence; its slot's computed tokens stay in the prefix cache for later prompts that start alike.</summary>
    public void Finish(Sequence sequence)
    {
        _running.Remove(sequence);
        var kept = sequence.Tokens.GetRange(0, sequence.Computed).ToArray();
        foreach (int slot in _prefix.Add(sequence.Slot, kept, sequence.Request.Adapter)) Release(slot);
        sequence.Slot = -1;
    }

    /// <summary>Drops a waiting or running sequence (failed or cancelled) and frees its slot.</summary>
    public void Remove(Sequence sequence)
    {
        _waiting.Remove(sequence);
        if (_running.Remove(sequence) && sequence.Slot >= 0) Release(sequence.Slot);
        sequence.Slot = -1;
    }

    /// <summary>
    /// For each waiting sequence that could be admitted now (not counting deferred ones, which let those behind them
    /// in): the longest start it can reuse, and whether it should wait for a longer one. A prompt whose every position
    /// must be scored is computed in full. The rest carry no match.
    /// </summary>
    private void MatchPrefixes()
    {
        if (_matches.Length < _waiting.Count)
        {
            _matches = new PrefixMatch[Math.Max(_waiting.Count, _matches.Length * 2)];
            _deferred = new bool[_matches.Length];
        }
        int admissible = Math.Max(0, _maxRunning - _running.Count);
        for (int i = 0; i < _waiting.Count; i++)
        {
            var sequence = _waiting[i];
            (_matches[i], _deferred[i]) = (default, false);
            if (admissible == 0) continue;
            if (!sequence.Request.PromptLogprobs)
            {
                _matches[i] = FindPrefix(sequence.Tokens, sequence.Request.Adapter);
                _deferred[i] = WillShare(sequence, i);
            }
            if (!_deferred[i]) admissible--;
        }
    }

    /// <summary>
    /// The longest reusable start of <paramref name="tokens"/>: a finished sequence's in the prefix cache,
    /// or whole KV blocks a running sequence has already computed (two requests with the same system
    /// prompt, n choices of one prompt). Only whole blocks are taken from a running sequence, so neither
    /// side later writes into a block the other holds and the block counts stay exact. Keys and values depend on
    /// the adapter, so only a sequence on the same <paramref name="adapter"/> is a match. With a sliding window, a match
    /// counts only where its slot still holds the window before it.
    /// </summary>
    private PrefixMatch FindPrefix(List<int> tokens, int adapter)
    {
        var best = _prefix.Find(tokens, adapter, _canResume) ?? default;
        foreach (var running in _running)
        {
            if (running.Request.Adapter != adapter) continue;
            int length = Math.Min(SharedBlocks(running.Tokens, tokens), running.Computed - running.Computed % _ledger.BlockSize);
            if (length > best.Length && _ledger.CanResume(running.Slot, length)) best = new PrefixMatch(running.Slot, length);
        }
        return best;
    }

    /// <summary>
    /// True when a sequence still prefilling, or one waiting ahead of waiting sequence <paramref name="index"/> and not
    /// itself deferred, and on the same adapter, shares more whole blocks of prompt with it than it can reuse now.
    /// </summary>
    private bool WillShare(Sequence sequence, int index)
    {
        int have = _matches[index].Length, adapter = sequence.Request.Adapter;
        foreach (var running in _running)
            if (running.Request.Adapter == adapter && running.Computed < running.PromptLength && SharedBlocks(running.Tokens, sequence.Tokens) > have) return true;
        for (int i = 0; i < index; i++)
            if (!_deferred[i] && _waiting[i].Request.Adapter == adapter && SharedBlocks(_waiting[i].Tokens, sequence.Tokens) > have) return true;
        return false;
    }

    /// <summary>Positions in whole blocks that start both lists alike, short of the last token of <paramref name="prompt"/> (it must run for logits).</summary>
    private int SharedBlocks(List<int> other, List<int> prompt)
    {
        int most = Math.Min(other.Count, prompt.Count - 1), length = 0;
        while (length < most && other[length] == prompt[length]) length++;
        return length - length % _ledger.BlockSize;
    }

    /// <summary>Fills the output's chunks and the preemption and admission lists from counts alone; changes nothing else.</summary>
    private void Plan(bool canEvict)
    {
        _output.Clear();
        _preempt.Clear();
        _admit.Clear();
        _needsEviction = false;
        int budget = _tokenBudget, free = _ledger.FreeBlocks, decodes = 0;
        Array.Clear(_runningState, 0, _running.Count);
        for (int phase = 0; phase < 2; phase++)
        {
            if (phase == 1) decodes = _output.Chunks.Count;
            bool decodePhase = phase == 0;
            for (int i = 0; i < _running.Count && budget > 0; i++)
            {
                var sequence = _running[i];
                if ((sequence.Uncomputed == 1) != decodePhase || _runningState[i] == Preempting) continue;
                int count = FitToBlocks(_ledger, sequence.Slot, sequence.Computed, Math.Min(sequence.Uncomputed, budget), free, out int blocks);
                if (count == 0)
                {
                    if (canEvict) { _needsEviction = true; return; }
                    // The newest sequence not yet planned yields; when that is this one, it yields itself.
                    int victim = _running.Count - 1;
                    while (_runningState[victim] != Unplanned) victim--;
                    _runningState[victim] = Preempting;
                    _preempt.Add(_running[victim]);
                    continue;
                }
                free -= blocks;
                budget -= count;
                _output.Add(sequence, count);
                _runningState[i] = Planned;
            }
        }
        if (_preempt.Count > 0) return;

        int runningCount = _running.Count, freeSlots = _freeSlots.Count;
        for (int i = 0; i < _waiting.Count; i++)
        {
            if (runningCount >= _maxRunning || freeSlots == 0 || budget == 0) break;
            if (_deferred[i]) continue;
            var sequence = _waiting[i];
            int reuse = _matches[i].Length;
            int count = Math.Min(sequence.Tokens.Count - reuse, budget);
            while (count > 0 && NewBlocks(reuse, count, _ledger.BlockSize) > free)
                count = LargestFit(reuse, count, free, _ledger.BlockSize);
            if (count == 0)
            {
                // Live requests outrank cached prefixes.
                if (canEvict) _needsEviction = true;
                break;
            }
            free -= NewBlocks(reuse, count, _ledger.BlockSize);
            budget -= count;
            runningCount++;
            freeSlots--;
            _admit.Add(sequence);
            // Its chunk starts after the reused prefix: Admit sets Computed to it before the step runs.
            _output.Add(sequence, count);
        }
        PlanDrafts(decodes, budget, free);
    }

    /// <summary>
    /// Lets the first <paramref name="decodes"/> chunks (one-token decodes) check their sequences' drafts, oldest first,
    /// with the tokens and blocks the step has left once every decode, prefill and admission has its share: a guess
    /// never pushes real work out of a step. The draft positions' blocks count like any others until the output processor
    /// rewinds the slot past the rejected ones.
    /// </summary>
    private void PlanDrafts(int decodes, int budget, int free)
    {
        for (int c = 0; c < decodes && budget > 0; c++)
        {
            var (sequence, _, _) = _output.Chunks[c];
            int drafts = Math.Min(sequence.DraftCount, budget);
            if (drafts == 0) continue;
            int end = sequence.Computed + 1, held = _ledger.BlocksNeeded(sequence.Slot, end);
            while (drafts > 0 && _ledger.BlocksNeeded(sequence.Slot, end + drafts) - held > free) drafts--;
            if (drafts == 0) continue;
            free -= _ledger.BlocksNeeded(sequence.Slot, end + drafts) - held;
            budget -= drafts;
            _output.AddDrafts(c, drafts);
        }
    }

    /// <summary>
    /// Keeps the first <paramref name="length"/> computed positions of a running sequence and returns the blocks past them:
    /// the draft positions its model rejected, or those past where it stopped.
    /// </summary>
    public void Rewind(Sequence sequence, int length)
    {
        _ledger.Truncate(sequence.Slot, length);
        sequence.Computed = length;
    }

    private void Admit(Sequence sequence)
    {
        int index = _waiting.IndexOf(sequence);
        var match = _matches[index];
        _waiting.RemoveAt(index);
        // The match arrays follow the waiting list, which just lost an entry.
        Array.Copy(_matches, index + 1, _matches, index, _waiting.Count - index);
        Array.Copy(_deferred, index + 1, _deferred, index, _waiting.Count - index);
        int slot = _freeSlots.Pop();
        sequence.Slot = slot;
        if (match.Length > 0) _ledger.Share(match.Slot, slot, match.Length);
        sequence.Computed = match.Length;
        if (!sequence.EverAdmitted)
        {
            sequence.EverAdmitted = true;
            sequence.CachedTokens = match.Length;
            PrefixHitTokens += match.Length;
            _output.FirstAdmissions++;
        }
        InsertById(_running, sequence);
    }

    private void Preempt(Sequence sequence)
    {
        _running.Remove(sequence);
        Release(sequence.Slot);
        sequence.Slot = -1;
        sequence.Computed = 0;
        InsertById(_waiting, sequence);
        Preemptions++;
    }

    private void Release(int slot)
    {
        _ledger.Truncate(slot, 0);
        _freeSlots.Push(slot);
    }

    private static void InsertById(List<Sequence> list, Sequence sequence)
    {
        int at = list.Count;
        while (at > 0 && list[at - 1].Id > sequence.Id) at--;
        list.Insert(at, sequence);
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
