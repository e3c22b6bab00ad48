namespace Dclm.Inference.Engine;

/// <summary>
/// Applies a step's results to its sequences: records the computed positions and prompt log-probabilities, appends each
/// drawn token, streams its text (decoded without splitting a character, held back near a stop string), and finishes
/// sequences at end-of-sequence, a stop token or string, or the token budget, handing their slots to the scheduler's
/// prefix cache. Counts prefill and generated tokens. Engine thread only; a step allocates nothing (the finish does).
/// </summary>
internal sealed class OutputProcessor(Scheduler scheduler, EngineMetrics metrics, int? endOfSequenceId)
{
    /// <summary>Advances every chunk of <paramref name="schedule"/> by what <paramref name="output"/> holds for it.</summary>
    public void Process(SchedulerOutput schedule, RunnerOutput output)
    {
        for (int c = 0; c < schedule.Chunks.Count; c++)
        {
            var (sequence, count) = schedule.Chunks[c];
            var result = output.Chunks[c];
            for (int k = 0; k < result.PromptCount; k++) sequence.PromptEntries!.Add(output.PromptLogprobs[result.PromptStart + k]);
            sequence.Computed += count;
            metrics.PrefillTokens += sequence.Computed == sequence.Tokens.Count ? count - 1 : count;
            if (sequence.Computed != sequence.Tokens.Count) continue;
            // Scoring only (echo with logprobs and no budget): the prompt has run, nothing is drawn.
            if (result.Token < 0) Finish(sequence, FinishReason.Length);
            else
            {
                metrics.GeneratedTokens++;
                Advance(sequence, result.Token, result.Logprobs);
            }
        }
    }

    /// <summary>Appends the drawn token to the sequence and streams its text, or finishes the sequence.</summary>
    private void Advance(Sequence sequence, int next, TokenLogprobs? logprobs)
    {
        var request = sequence.Request;
        if ((request.Sampling.StopAtEndOfSequence && next == endOfSequenceId) || request.IsStopToken(next))
        {
            Finish(sequence, FinishReason.Stop);
            return;
        }
        sequence.Tokens.Add(next);
        var piece = sequence.Text.Append(next);
        sequence.Stability.Text(piece);
        sequence.Output.Write(next, piece, logprobs, sequence.TakePromptEntries());
        if (sequence.Text.Stopped) Finish(sequence, FinishReason.Stop);
        else if (sequence.Generated >= request.Sampling.MaxTokens) Finish(sequence, FinishReason.Length);
    }

    /// <summary>Ends a sequence: its slot goes to the prefix cache, the statistics count it, then the last update goes out.</summary>
    public void Finish(Sequence sequence, FinishReason reason)
    {
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
