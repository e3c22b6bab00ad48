namespace Dclm.Inference.Engine;

/// <summary>
/// Applies a step's results to its sequences: records the computed positions and prompt log-probabilities, appends each
/// drawn token, streams its text (decoded without splitting a character, held back near a stop string), and finishes
/// sequences at end-of-sequence, a stop token or string, or the token budget, handing their slots to the scheduler's
/// prefix cache. A decode that checked a draft emits every token the model accepted, one after another through the same
/// checks, and its slot is rewound past the draft positions the model rejected. Counts prefill, generated, drafted and
/// accepted tokens. Engine thread only; a step allocates nothing (the finish does).
/// </summary>
internal sealed class OutputProcessor(Scheduler scheduler, EngineMetrics metrics, int? endOfSequenceId)
{
    /// <summary>Advances every chunk of <paramref name="schedule"/> by what <paramref name="output"/> holds for it.</summary>
    public void Process(SchedulerOutput schedule, RunnerOutput output)
    {
        for (int c = 0; c < schedule.Chunks.Count; c++)
        {
            var (sequence, count, drafts) = schedule.Chunks[c];
            var result = output.Chunks[c];
            for (int k = 0; k < result.PromptCount; k++) sequence.PromptEntries!.Add(output.PromptLogprobs[result.PromptStart + k]);
            int real = count - drafts;
            sequence.Computed += real;
            metrics.PrefillTokens += sequence.Computed == sequence.Tokens.Count ? real - 1 : real;
            if (sequence.Computed != sequence.Tokens.Count) continue;
            var tokens = output.Tokens(c);
            // Scoring only (echo with logprobs and no budget): the prompt has run, nothing is drawn.
            if (tokens.IsEmpty)
            {
                Finish(sequence, FinishReason.Length);
                continue;
            }
            if (drafts > 0)
            {
                // All emitted tokens but the last equal the draft's first ones, whose keys and values are right; the
                // slot keeps them and drops the rest. Until the tokens are appended below, Computed runs ahead of them.
                int accepted = tokens.Length - 1;
                metrics.DraftedTokens += drafts;
                metrics.AcceptedDraftTokens += accepted;
                scheduler.Rewind(sequence, sequence.Computed + accepted);
            }
            for (int i = 0; i < tokens.Length; i++)
            {
                metrics.GeneratedTokens++;
                var (logprob, entropy) = output.Measure(c, i);
                sequence.Stability.Add(logprob, entropy);
                if (!Advance(sequence, tokens[i], output.Logprobs(c, i))) break;
            }
        }
    }

    /// <summary>Appends the drawn token to the sequence and streams its text, or finishes the sequence; false once it is finished.</summary>
    private bool Advance(Sequence sequence, int next, TokenLogprobs? logprobs)
    {
        var request = sequence.Request;
        if ((request.Sampling.StopAtEndOfSequence && next == endOfSequenceId) || request.IsStopToken(next))
        {
            Finish(sequence, FinishReason.Stop);
            return false;
        }
        sequence.Tokens.Add(next);
        var piece = sequence.Text.Append(next);
        sequence.Stability.Text(piece);
        sequence.Output.Write(next, piece, logprobs, sequence.TakePromptEntries());
        if (sequence.Text.Stopped) Finish(sequence, FinishReason.Stop);
        else if (sequence.Generated >= request.Sampling.MaxTokens) Finish(sequence, FinishReason.Length);
        else return true;
        return false;
    }

    /// <summary>Ends a sequence: its slot goes to the prefix cache, the statistics count it, then the last update goes out.</summary>
    public void Finish(Sequence sequence, FinishReason reason)
    {
        // Stopped inside an accepted draft: the slot keeps only positions of tokens the sequence holds.
        if (sequence.Computed > sequence.Tokens.Count) scheduler.Rewind(sequence, sequence.Tokens.Count);
        var rest = sequence.Text.Finish();
        sequence.Stability.Text(rest);
        var usage = new GenerationUsage(sequence.PromptLength, sequence.Generated, sequence.CachedTokens)
        {
            // Scoring requests (no budget) draw nothing: no output to judge.
            Stability = sequence.Request.Sampling.MaxTokens == 0 ? null : sequence.Stability.Result(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequence.Tokens)[sequence.PromptLength..], reason),
        };
        scheduler.Finish(sequence);
        // Statistics first, so a caller that reads them after its final update sees its own request counted.
        metrics.Publish();
        sequence.Output.Write(-1, rest, null, sequence.TakePromptEntries(), reason, usage);
        sequence.Registration.Dispose();
        sequence.Sampler.Dispose();
    }

    /// <summary>Ends a sequence with an error (cancelled, the engine stopping, a failed step) and frees its slot.</summary>
    public void Fail(Sequence sequence, Exception error)
    {
        sequence.Output.Fail(error is OperationCanceledException or EngineBusyException ? error : new InvalidOperationException($"generation failed: {error.Message}", error));
        sequence.Registration.Dispose();
        sequence.Sampler.Dispose();
        scheduler.Remove(sequence);
    }
}
