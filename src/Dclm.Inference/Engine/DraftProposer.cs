using System.Runtime.InteropServices;
using Dclm.Inference.Speculation;

namespace Dclm.Inference.Engine;

/// <summary>
/// Fills each decoding sequence's <see cref="Sequence.Draft"/> before the scheduler plans a step: tokens that may follow
/// its prompt and output, from a draft source that reads tokens only (prompt lookup, or a draft model with its own
/// cache), so the scheduler still plans from counts. A draft never runs past the request's token budget, the context, or
/// one KV block (a sliding-window cache can rewind at most one block). Each running sequence holds a source from
/// <c>createSource</c> (prompt lookup hands out its one stateless instance; a draft model, one source with its own KV
/// cache per sequence); a sequence that stops running (finished, cancelled, preempted) gives its source back to an idle
/// pool the next sequence takes it from, and a draft model's source re-feeds whatever the new owner's tokens do not share
/// with what it holds. Engine thread only; allocates nothing once the pool has its sources.
/// </summary>
internal sealed class DraftProposer
{
    private readonly Func<IDraftSource> _createSource;
    private readonly int _limit;
    // Sequences holding a source, and the sources no sequence holds; together at most the running limit.
    private readonly List<Sequence> _holding;
    private readonly Stack<IDraftSource> _idle;
    private long _round;

    /// <param name="createSource">Makes a source for a sequence when the idle pool is empty.</param>
    /// <param name="maxDraftTokens">Most draft tokens a step checks.</param>
    /// <param name="blockSize">KV block positions, another bound on a draft.</param>
    /// <param name="maxRunning">Most sequences running at once.</param>
    public DraftProposer(Func<IDraftSource> createSource, int maxDraftTokens, int blockSize, int maxRunning)
    {
        _createSource = createSource;
        _limit = Math.Min(maxDraftTokens, blockSize);
        _holding = new List<Sequence>(maxRunning);
        _idle = new Stack<IDraftSource>(maxRunning);
    }

    /// <summary>Most draft tokens a sequence's step carries.</summary>
    public int MaxDraftTokens => _limit;

    /// <summary>Sources held by sequences (for tests: none once every request has ended and the engine has looked).</summary>
    public int HeldSources => _holding.Count;

    /// <summary>Sources made so far (for tests: at most the sequences that ran at once).</summary>
    public int CreatedSources { get; private set; }

    /// <summary>Sets the draft of every sequence in <paramref name="running"/>: a guess for those about to decode, none for the rest.</summary>
    public void Propose(IReadOnlyList<Sequence> running)
    {
        long round = ++_round;
        for (int i = 0; i < running.Count; i++)
        {
            var sequence = running[i];
            sequence.DraftRound = round;
            sequence.DraftCount = 0;
            // Only a sequence whose next step decodes (its last token is the one uncomputed) checks a draft; the step
            // emits up to k + 1 tokens, so k stays below what the budget has left.
            int room = Math.Min(_limit, sequence.Request.Sampling.MaxTokens - sequence.Generated - 1);
            if (sequence.Uncomputed != 1 || room <= 0) continue;
            var source = sequence.DraftSource ??= Take(sequence);
            sequence.DraftCount = source.Draft(CollectionsMarshal.AsSpan(sequence.Tokens), sequence.Draft.AsSpan(0, room));
        }
        ReleaseStopped(round);
    }

    /// <summary>Gives back the sources of every sequence that holds one, when none runs (the engine is idle).</summary>
    public void ReleaseAll() => ReleaseStopped(++_round);

    private IDraftSource Take(Sequence sequence)
    {
        _holding.Add(sequence);
        if (_idle.TryPop(out var source)) return source;
        CreatedSources++;
        return _createSource();
    }

    /// <summary>Sequences not seen running in <paramref name="round"/> give their sources back.</summary>
    private void ReleaseStopped(long round)
    {
        for (int i = _holding.Count - 1; i >= 0; i--)
        {
            var sequence = _holding[i];
            if (sequence.DraftRound == round) continue;
            _idle.Push(sequence.DraftSource!);
            sequence.DraftSource = null;
            _holding[i] = _holding[^1];
            _holding.RemoveAt(_holding.Count - 1);
        }
    }
}
