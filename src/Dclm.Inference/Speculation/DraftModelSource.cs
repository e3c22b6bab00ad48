using Dclm.Models;

namespace Dclm.Inference.Speculation;

/// <summary>
/// Drafts with a small model that shares the target's vocabulary (llama.cpp's <c>--model-draft</c>): greedy
/// tokens from the draft model, one forward step each. The draft keeps its own KV cache in step with the
/// sequence: positions the target rejected are truncated, and the tokens it accepted are fed back in one
/// batch the next time a draft is wanted.
/// </summary>
public sealed class DraftModelSource : IDraftSource
{
    private readonly DecoderModel _model;
    private readonly KvCache _cache;
    private readonly int _targetVocabulary;
    // Tokens whose keys and values _cache holds, in order.
    private readonly List<int> _cached = [];
    private readonly float[] _logits;
    private readonly ForwardBatch _step = ForwardBatch.WithCapacity(TokenGenerator.PrefillChunk, 1);

    /// <param name="model">The draft model.</param>
    /// <param name="targetVocabularySize">The target's vocabulary; a drafted id outside it ends the draft.</param>
    /// <param name="capacity">Most positions a sequence reaches (prompt plus generated tokens).</param>
    public DraftModelSource(DecoderModel model, int targetVocabularySize, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetVocabularySize);
        if (capacity > model.Config.ContextLength)
            throw new ArgumentException($"the draft model's context is {model.Config.ContextLength} tokens; this sequence may reach {capacity}");
        _model = model;
        _targetVocabulary = targetVocabularySize;
        _cache = model.CreateCache(1, capacity);
        _logits = new float[model.Config.VocabularySize];
    }

    /// <summary>Most extra tokens a draft vocabulary may have over the target's or lack (padding rows), as llama.cpp allows.</summary>
    public const int VocabularySlack = 128;

    /// <summary>
    /// Throws unless <paramref name="draft"/> spells every token id the two tokenizers share as
    /// <paramref name="target"/> does and their sizes differ by at most <see cref="VocabularySlack"/>: a draft in
    /// another vocabulary would propose tokens that mean something else (correct output, nothing accepted).
    /// </summary>
    public static void RequireSharedVocabulary(Tokenizers.Tokenizer target, Tokenizers.Tokenizer draft)
    {
        if (Math.Abs(target.VocabularySize - draft.VocabularySize) > VocabularySlack)
            throw new ArgumentException($"the draft model's vocabulary has {draft.VocabularySize} tokens, the target's {target.VocabularySize}; they must share one vocabulary");
        int shared = Math.Min(target.VocabularySize, draft.VocabularySize);
        for (int id = 0; id < shared; id++)
            if (target.TokenText(id) != draft.TokenText(id))
                throw new ArgumentException($"the draft model's token {id} is \"{draft.TokenText(id)}\", the target's is \"{target.TokenText(id)}\"; they must share one vocabulary");
    }

    /// <inheritdoc/>
    public int Draft(ReadOnlySpan<int> history, Span<int> destination)
    {
        if (destination.IsEmpty || history.IsEmpty) return 0;
        // Keep the common prefix of what the cache holds and the sequence; feed the rest in chunks.
        int common = 0;
        while (common < _cached.Count && common < history.Length && _cached[common] == history[common]) common++;
        if (common == history.Length) common--; // the last token's logits are needed, so it is fed again
        _cache.Truncate(0, common);
        _cached.RemoveRange(common, _cached.Count - common);
        for (int start = common; start < history.Length; start += TokenGenerator.PrefillChunk)
            Feed(history.Slice(start, Math.Min(TokenGenerator.PrefillChunk, history.Length - start)));

        int limit = Math.Min(destination.Length, _cache.Capacity - history.Length);
        for (int i = 0; i < limit; i++)
        {
            int next = Sampler.ArgMax(_logits);
            if (next >= _targetVocabulary) return i;
            destination[i] = next;
            // The last draft token needs no logits of its own.
            if (i + 1 < limit) Feed([next]);
        }
        return Math.Max(0, limit);
    }

    private void Feed(ReadOnlySpan<int> tokens)
    {
        int start = _cached.Count;
        for (int i = 0; i < tokens.Length; i++)
        {
            _step.Tokens[i] = tokens[i];
            _step.Positions[i] = start + i;
            _step.Slots[i] = 0;
        }
        _step.Count = tokens.Length;
        _step.LogitRows[0] = tokens.Length - 1;
        _step.LogitRowCount = 1;
        _model.Forward(_step, _cache, _logits);
        foreach (int token in tokens) _cached.Add(token);
    }
}
