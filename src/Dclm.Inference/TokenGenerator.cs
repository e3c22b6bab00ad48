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
/// with the same type it gives what the batching engine gives).
/// </summary>
public sealed class TokenGenerator(DecoderModel model, int? endOfSequenceId, KvCacheType kvCacheType = KvCacheType.F32)
{
    /// <summary>Prompt tokens per prefill step; bounds activation memory for long prompts.</summary>
    public const int PrefillChunk = 512;

    /// <summary>Why the last <see cref="Generate"/> ended.</summary>
    public FinishReason FinishReason { get; private set; }

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

        for (int start = 0; start < prompt.Count; start += PrefillChunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(PrefillChunk, prompt.Count - start);
            var chunk = history.GetRange(start, count).ToArray();
            model.Forward(ForwardBatch.Sequence(chunk, start), cache, logits);
        }

        var step = new ForwardBatch { Tokens = new int[1], Positions = new int[1], Slots = new int[1], LogitRows = [0] };
        for (int generated = 0; generated < budget; generated++)
        {
            cancellation.ThrowIfCancellationRequested();
            int next = sampler.Sample(logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            if (options.StopAtEndOfSequence && next == endOfSequenceId) { FinishReason = FinishReason.Stop; yield break; }
            history.Add(next);
            yield return next;
            if (generated + 1 == budget) break;
            step.Tokens[0] = next;
            step.Positions[0] = history.Count - 1;
            model.Forward(step, cache, logits);
        }
        FinishReason = FinishReason.Length;
    }
}
