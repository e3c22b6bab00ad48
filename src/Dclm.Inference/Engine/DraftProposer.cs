using System.Runtime.InteropServices;
using Dclm.Inference.Speculation;

namespace Dclm.Inference.Engine;

/// <summary>
/// Fills each decoding sequence's <see cref="Sequence.Draft"/> before the scheduler plans a step: tokens that may follow
/// its prompt and output, from a draft source that reads tokens only (prompt lookup), so the scheduler still plans from
/// counts. A draft never runs past the request's token budget, the context, or one KV block (a sliding-window cache
/// can rewind at most one block). Engine thread only; allocates nothing.
/// </summary>
internal sealed class DraftProposer(IDraftSource source, int maxDraftTokens, int blockSize)
{
    private readonly int _limit = Math.Min(maxDraftTokens, blockSize);

    /// <summary>Most draft tokens a sequence's step carries.</summary>
    public int MaxDraftTokens => _limit;

    /// <summary>Sets the draft of every sequence in <paramref name="running"/>: a guess for those about to decode, none for the rest.</summary>
    public void Propose(IReadOnlyList<Sequence> running)
    {
        for (int i = 0; i < running.Count; i++)
        {
            var sequence = running[i];
            sequence.DraftCount = 0;
            // Only a sequence whose next step decodes (its last token is the one uncomputed) checks a draft; the step
            // emits up to k + 1 tokens, so k stays below what the budget has left.
            int room = Math.Min(_limit, sequence.Request.Sampling.MaxTokens - sequence.Generated - 1);
            if (sequence.Uncomputed != 1 || room <= 0) continue;
            sequence.DraftCount = source.Draft(CollectionsMarshal.AsSpan(sequence.Tokens), sequence.Draft.AsSpan(0, room));
        }
    }
}
