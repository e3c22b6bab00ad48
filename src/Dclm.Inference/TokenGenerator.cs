using System.Runtime.InteropServices;
using Dclm.Inference.Speculation;
using Dclm.Models;

namespace Dclm.Inference;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>Still running.</summary>
    None,
    /// <summary>The token budget ran out (OpenAI's "length").</summary>
    Length,
    /// <summary>An end-of-sequence token or a stop string ended it (OpenAI's "stop").</summary>
    Stop,
}

/// <summary>
/// Generates tokens for one sequence: a chunked prefill of the prompt, then one decode step per token,
/// using slot 0 of its own KV cache (exact floats unless <paramref name="kvCacheType"/> says otherwise;
/// with the same type it gives what the batching engine gives). With <paramref name="speculation"/>, each decode
/// step checks a draft of several tokens at once (<see cref="DraftVerifier"/>): the output is the same.
/// </summary>
public sealed class TokenGenerator(IDecoderModel model, int? endOfSequenceId, KvCacheType kvCacheType = KvCacheType.F32,
    SpeculativeDecoding? speculation = null)
{
    /// <summary>Prompt tokens per prefill step; bounds activation memory for long prompts.</summary>
    public const int PrefillChunk = 512;

    /// <summary>Why the last <see cref="Generate"/> ended.</summary>
    public FinishReason FinishReason { get; private set; }

    /// <summary>How speculation went in the last <see cref="Generate"/>; null without speculation.</summary>
    public SpeculationStatistics? Speculation { get; private set; }

    /// <summary>
    /// Log-probability and entropy of every token the last <see cref="Generate"/> drew (the first one only under speculation,
    /// whose verifier draws the rest), and the visible text a caller reports with <see cref="OutputStabilityMeter.Text"/>.
    /// </summary>
    public OutputStabilityMeter Stability { get; } = new();

    /// <summary>
    /// Yields generated token ids one at a time. The end-of-sequence token, when it ends generation,
    /// is not yielded. The caller may stop enumerating at any point (e.g. on a stop string).
    /// <paramref name="constraint"/> limits which tokens may come next (JSON mode, a JSON schema).
    /// </summary>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, SamplingOptions options, CancellationToken cancellation = default,
        Constraints.ITokenConstraint? constraint = null)
    {
        FinishReason = FinishReason.None;
        if (prompt.Count == 0) throw new ArgumentException("the prompt must hold at least one token");
        int context = model.Config.ContextLength;
        if (prompt.Count >= context) throw new ArgumentException($"the prompt has {prompt.Count} tokens; the model's context is {context}");
        int budget = Math.Min(options.MaxTokens, context - prompt.Count);
        var cache = model.CreateCache(1, prompt.Count + budget, kvCacheType);
        using var sampler = new Sampler(options, model.Config.VocabularySize, constraint);
        var logits = new float[model.Config.VocabularySize];
        var history = new List<int>(prompt);
        Stability.Reset();
        var scratch = new float[model.Config.VocabularySize];
        for (int start = 0; start < prompt.Count; start += PrefillChunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(PrefillChunk, prompt.Count - start);
            var chunk = history.GetRange(start, count).ToArray();
            model.Forward(ForwardBatch.Sequence(chunk, start), cache, logits, cancellation);
        }
        if (speculation is not null)
        {
            foreach (int token in Speculate(history, budget, options.StopAtEndOfSequence ? endOfSequenceId : null, cache, sampler, logits, scratch, cancellation))
                yield return token;
            yield break;
        }

        var step = new ForwardBatch { Tokens = new int[1], Positions = new int[1], Slots = new int[1], LogitRows = [0] };
        for (int generated = 0; generated < budget; generated++)
        {
            cancellation.ThrowIfCancellationRequested();
            int next = sampler.Sample(logits, CollectionsMarshal.AsSpan(history));
            Stability.Observe(logits, next, scratch);
            if (options.StopAtEndOfSequence && next == endOfSequenceId) { FinishReason = FinishReason.Stop; yield break; }
            history.Add(next);
            yield return next;
            if (generated + 1 == budget) break;
            step.Tokens[0] = next;
            step.Positions[0] = history.Count - 1;
            model.Forward(step, cache, logits, cancellation);
        }
        FinishReason = FinishReason.Length;
    }

    /// <summary>
    /// Decoding with drafts, after the same prefill as plain decoding (so the prompt's keys, values and first
    /// token are computed exactly as without drafts). The cache then holds every token but the last emitted
    /// one, which is fed with the draft: [last, d1 … dk] at positions n−1 … n−1+k gives k+1 logit rows; the
    /// verifier keeps d1 … da and emits one token of the target's own, and the cache is cut back to the n+a
    /// positions that stayed true.
    /// </summary>
    private IEnumerable<int> Speculate(List<int> history, int budget, int? stop, KvCache cache, Sampler sampler, float[] logits, float[] scratch, CancellationToken cancellation)
    {
        var spec = speculation!;
        int vocabulary = model.Config.VocabularySize;
        var rows = new float[(spec.MaxDraftTokens + 1) * vocabulary];
        var draft = new int[spec.MaxDraftTokens];
        var emitted = new int[spec.MaxDraftTokens + 1];
        var step = ForwardBatch.WithCapacity(spec.MaxDraftTokens + 1, spec.MaxDraftTokens + 1);
        long drafted = 0, accepted = 0, steps = 0;
        int generated = 0;
        try
        {
            if (budget == 0) { FinishReason = FinishReason.Length; yield break; }
            int first = sampler.Sample(logits, CollectionsMarshal.AsSpan(history));
            Stability.Observe(logits, first, scratch);
            if (first == stop) { FinishReason = FinishReason.Stop; yield break; }
            history.Add(first);
            generated++;
            yield return first;
            while (generated < budget)
            {
                cancellation.ThrowIfCancellationRequested();
                // A step emits at most k+1 tokens; never draft past the budget.
                int k = spec.Source.Draft(CollectionsMarshal.AsSpan(history), draft.AsSpan(0, Math.Min(spec.MaxDraftTokens, budget - generated - 1)));
                int n = history.Count;
                step.Count = k + 1;
                step.LogitRowCount = k + 1;
                for (int i = 0; i <= k; i++)
                {
                    step.Tokens[i] = i == 0 ? history[n - 1] : draft[i - 1];
                    step.Positions[i] = n - 1 + i;
                    step.Slots[i] = 0;
                    step.LogitRows[i] = i;
                }
                model.Forward(step, cache, rows, cancellation);
                int count = DraftVerifier.Verify(sampler, rows, vocabulary, history, draft.AsSpan(0, k), stop, emitted);
                steps++;
                drafted += k;
                int kept = count - 1; // the last emitted token is the target's own (or the stop token)
                accepted += kept;
                cache.Truncate(0, n + kept);
                for (int i = 0; i < count; i++)
                {
                    if (emitted[i] == stop) { FinishReason = FinishReason.Stop; yield break; }
                    generated++;
                    yield return emitted[i];
                }
            }
            FinishReason = FinishReason.Length;
        }
        finally
        {
            Speculation = new SpeculationStatistics { Drafted = drafted, Accepted = accepted, Steps = steps, Emitted = generated };
        }
    }
}
